//! Command-line parsing the way Terraform's (Go `flag`) does it: `-name`,
//! `--name`, `-name=value`, `-name value` for value flags, parsing stops at the
//! first argument that is not a flag, and unknown flags are errors.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::diag::{Diag, Res};

/// The flags each subcommand accepts beyond the common ones.
const COMMON: &[&str] = &["no-color", "input", "json"];
const PLAN_LIKE: &[&str] = &[
    "var",
    "var-file",
    "lock",
    "lock-timeout",
    "refresh",
    "target",
    "replace",
    "parallelism",
    "compact-warnings",
    "destroy",
];
const VALUE_FLAGS: &[&str] = &[
    "var",
    "var-file",
    "lock-timeout",
    "target",
    "replace",
    "parallelism",
    "out",
    "backend-config",
    "state",
    "chdir",
];

fn allowed(command: &str) -> Vec<&'static str> {
    let own: &[&str] = match command {
        "init" => &[
            "backend-config",
            "backend",
            "get",
            "upgrade",
            "reconfigure",
            "migrate-state",
            "force-copy",
            "lock",
            "lock-timeout",
        ],
        "plan" => &["out", "detailed-exitcode"],
        "apply" | "destroy" => &["auto-approve"],
        "output" => &["raw", "state"],
        "workspace" => &["or-create", "lock", "lock-timeout", "state", "force"],
        _ => &[],
    };
    let plan_like = matches!(command, "plan" | "apply" | "destroy");
    let mut names = COMMON.to_vec();
    names.extend_from_slice(own);
    if plan_like {
        names.extend_from_slice(PLAN_LIKE);
    }
    names
}

/// A parsed command line.
#[derive(Debug)]
pub struct Cli {
    pub chdir: Option<PathBuf>,
    /// `apply`, `workspace`, ...; `version` for `-version`.
    pub command: String,
    /// The workspace subcommand (`select`, `new`, ...).
    pub sub: Option<String>,
    pub flags: Flags,
    pub positional: Vec<String>,
}

/// Flags in command-line order; bool flags have the value `true` or `false`.
#[derive(Debug, Default)]
pub struct Flags(Vec<(String, String)>);

impl Flags {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A bool flag: `default` when absent.
    pub fn bool(&self, name: &str, default: bool) -> bool {
        self.get(name).map_or(default, |v| v == "true")
    }

    /// `-var k=v` values, later ones winning.
    pub fn vars(&self) -> Res<BTreeMap<String, String>> {
        self.all("var")
            .into_iter()
            .map(|raw| {
                let (key, value) = raw.split_once('=').ok_or_else(|| {
                    Diag::new("Invalid -var option").detail(format!(
                        "The given -var option {raw:?} is not correctly specified. Must be a \
                         variable name and value separated by an equals sign, like \
                         -var=\"key=value\"."
                    ))
                })?;
                Ok((key.trim().to_owned(), value.to_owned()))
            })
            .collect()
    }

    /// `-lock-timeout` (a Go duration; zero, one try, when absent).
    pub fn lock_timeout(&self) -> Res<Duration> {
        self.get("lock-timeout")
            .map_or(Ok(Duration::ZERO), parse_duration)
    }
}

pub fn parse(args: &[String]) -> Res<Cli> {
    let mut rest = args;
    let mut chdir = None;
    while let Some(arg) = rest.first().filter(|a| a.starts_with('-')) {
        let name = arg.trim_start_matches('-');
        match name.split_once('=') {
            Some(("chdir", dir)) => chdir = Some(PathBuf::from(dir)),
            None if matches!(name, "version" | "v") => {
                return Ok(Cli {
                    chdir,
                    command: "version".into(),
                    sub: None,
                    flags: Flags::default(),
                    positional: Vec::new(),
                });
            }
            _ => return Err(flag_error(format!("unknown global option {arg}"))),
        }
        rest = &rest[1..];
    }
    let Some((command, mut rest)) = rest.split_first() else {
        return Err(Diag::new("No command given")
            .detail("Usage: terraform [global options] <subcommand> [args]"));
    };
    let mut sub = None;
    if command == "workspace" {
        let (name, after) = rest
            .split_first()
            .ok_or_else(|| Diag::new("Missing workspace subcommand"))?;
        sub = Some(name.clone());
        rest = after;
    }
    let (flags, positional) = parse_flags(&allowed(command), rest)?;
    Ok(Cli {
        chdir,
        command: command.clone(),
        sub,
        flags,
        positional,
    })
}

fn parse_flags(allowed: &[&str], args: &[String]) -> Res<(Flags, Vec<String>)> {
    let mut flags = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            i += 1;
            break;
        }
        if !arg.starts_with('-') || arg == "-" {
            break;
        }
        let body = arg.strip_prefix("--").unwrap_or(&arg[1..]);
        let (name, inline) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (body, None),
        };
        if !allowed.contains(&name) {
            return Err(flag_error(format!(
                "flag provided but not defined: -{name}"
            )));
        }
        let value = if VALUE_FLAGS.contains(&name) {
            match inline {
                Some(value) => value,
                None => {
                    i += 1;
                    args.get(i)
                        .cloned()
                        .ok_or_else(|| flag_error(format!("flag needs an argument: -{name}")))?
                }
            }
        } else {
            match inline.as_deref() {
                None | Some("true" | "1" | "t" | "T" | "TRUE" | "True") => "true".to_owned(),
                Some("false" | "0" | "f" | "F" | "FALSE" | "False") => "false".to_owned(),
                Some(other) => {
                    return Err(flag_error(format!(
                        "invalid boolean value {other:?} for -{name}: parse error"
                    )));
                }
            }
        };
        flags.push((name.to_owned(), value));
        i += 1;
    }
    Ok((Flags(flags), args[i..].to_vec()))
}

fn flag_error(detail: String) -> Diag {
    Diag::new("Error parsing command-line flags").detail(detail)
}

/// A Go duration: a sequence of number+unit (`ms`, `s`, `m`, `h`), or `0`.
pub fn parse_duration(text: &str) -> Res<Duration> {
    let bad = || Diag::new("Invalid -lock-timeout").detail(format!("invalid duration {text:?}"));
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .ok_or_else(bad)?;
        let number: f64 = rest[..digits].parse().map_err(|_| bad())?;
        let unit_end = rest[digits..]
            .find(|c: char| c.is_ascii_digit())
            .map_or(rest.len(), |n| digits + n);
        let seconds = match &rest[digits..unit_end] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += Duration::from_secs_f64(number * seconds);
        rest = &rest[unit_end..];
    }
    Ok(total)
}
