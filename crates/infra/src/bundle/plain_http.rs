//! A deployment answers on plain HTTP (no certificate). A Rails app whose
//! production settings force TLS (`config.force_ssl = true`, the default of
//! `rails new` since 7.1) redirects every request to `https://`, which
//! nothing answers, and `config.assume_ssl = true` marks its cookies
//! `Secure`, which browsers drop over HTTP: only `/up`, which Rails exempts,
//! would look healthy. Both settings follow a variable instead, off unless
//! set, so TLS in front of the app turns them back on; an app that reads
//! those variables itself, defaulting them on, gets them off unless given.

use super::app_files::AppFiles;

const PRODUCTION: &str = "config/environments/production.rb";

/// The settings rewritten, with the variable each now follows.
const SETTINGS: &[(&str, &str)] = &[
    ("config.force_ssl", "RAILS_FORCE_SSL"),
    ("config.assume_ssl", "RAILS_ASSUME_SSL"),
];

/// `config/environments/production.rb` with TLS-only settings made
/// optional, as a repository path, new content and the reason; `None` when
/// it sets none.
pub(super) fn rails_settings(files: &AppFiles) -> Option<(String, String, String)> {
    let text = files.text(PRODUCTION)?;
    let mut changed = Vec::new();
    let lines: Vec<String> = text
        .split('\n')
        .map(|line| {
            let code = line.trim_start();
            let indent = &line[..line.len() - code.len()];
            for (setting, variable) in SETTINGS {
                let Some(value) = code
                    .strip_prefix(setting)
                    .and_then(|rest| rest.trim_start().strip_prefix('='))
                else {
                    continue;
                };
                let (value, comment) = value.split_once('#').unwrap_or((value, ""));
                if value.trim().trim_end_matches('\r') != "true" {
                    continue;
                }
                changed.push(format!("`{setting}` now follows {variable}"));
                let ending = if line.ends_with('\r') && comment.is_empty() {
                    "\r"
                } else {
                    ""
                };
                let comment = if comment.is_empty() {
                    String::new()
                } else {
                    format!(" #{comment}")
                };
                return format!(
                    "{indent}{setting} = ENV[\"{variable}\"] == \"true\"{comment}{ending}"
                );
            }
            line.to_owned()
        })
        .collect();
    if changed.is_empty() {
        return None;
    }
    Some((
        files.repo_path(PRODUCTION),
        lines.join("\n"),
        format!(
            "The deployment answers on plain HTTP, where forcing TLS redirects every request to https:// (nothing answers there) and Secure cookies are dropped by browsers: {} (unset: off; set it to true behind TLS).",
            changed.join(", ")
        ),
    ))
}

/// Why `name`, a switch that forces TLS and is on by default in the app
/// (maybe's `ENV.fetch("RAILS_FORCE_SSL", true)`), is off unless given;
/// `None` for any other variable.
pub(super) fn tls_switch_off(name: &str, default: Option<&str>) -> Option<String> {
    let switch = SETTINGS.iter().any(|(_, variable)| *variable == name);
    let on = default
        .is_some_and(|d| matches!(d.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"));
    (switch && on).then(|| {
        format!("{name} turns TLS on, and the app defaults it on: the deployment answers on plain HTTP, where that redirects every request to https:// (nothing answers there), so it is false unless given; set it to true behind TLS.")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use analysis::Snapshot;

    fn rewritten(production: &str) -> Option<String> {
        let repo = Snapshot::from_texts([("api/config/environments/production.rb", production)]);
        rails_settings(&AppFiles::new(&repo, "api")).map(|(path, content, _)| {
            assert_eq!(path, "api/config/environments/production.rb");
            content
        })
    }

    #[test]
    fn tls_only_settings_follow_a_variable() {
        let production = "Rails.application.configure do\n  config.assume_ssl = true\n  config.force_ssl = true # redirect\n  # config.force_ssl = true\n  config.ssl_options = { redirect: { exclude: ->(r) { r.path == \"/up\" } } }\nend\n";
        assert_eq!(
            rewritten(production).unwrap(),
            "Rails.application.configure do\n  config.assume_ssl = ENV[\"RAILS_ASSUME_SSL\"] == \"true\"\n  config.force_ssl = ENV[\"RAILS_FORCE_SSL\"] == \"true\" # redirect\n  # config.force_ssl = true\n  config.ssl_options = { redirect: { exclude: ->(r) { r.path == \"/up\" } } }\nend\n"
        );
    }

    #[test]
    fn a_tls_switch_the_app_defaults_on_is_off_unless_given() {
        assert!(tls_switch_off("RAILS_FORCE_SSL", Some("true")).is_some());
        assert!(tls_switch_off("RAILS_ASSUME_SSL", Some("1")).is_some());
        assert!(tls_switch_off("RAILS_FORCE_SSL", Some("false")).is_none());
        assert!(tls_switch_off("RAILS_FORCE_SSL", None).is_none());
        assert!(tls_switch_off("FORCE_COLOR", Some("true")).is_none());
    }

    #[test]
    fn settings_already_off_or_read_elsewhere_are_left() {
        assert_eq!(
            rewritten(
                "  config.force_ssl = false\n  config.assume_ssl = ENV[\"BEHIND_TLS\"].present?\n"
            ),
            None
        );
        assert_eq!(rewritten("  # config.force_ssl = true\n"), None);
    }
}
