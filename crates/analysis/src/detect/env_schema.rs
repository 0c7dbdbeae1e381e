//! Env reads that are not a plain `getenv` call: a validation schema over
//! the whole environment (zod, envalid, t3-env), an alias of `process.env`,
//! the project's own `getEnv("X")`-style helper, and configuration formats
//! that name variables (Prisma, Symfony, HOCON).

use super::env::EnvRead;
use super::scan::{Spot, hits, line_at, quote};
use super::view::file_name;
use crate::snapshot::FileEntry;

const JS: &[&str] = &[".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx"];

fn is_js(name: &str) -> bool {
    JS.iter().any(|e| name.ends_with(e))
}

/// Every read of these kinds in `file`.
pub(crate) fn reads(file: &FileEntry) -> Vec<EnvRead> {
    let name = file_name(&file.path);
    let mut reads = Vec::new();
    if is_js(name) {
        reads.extend(schema_fields(file));
        reads.extend(joi_fields(file));
        reads.extend(aliased(file));
    }
    if is_js(name) || name.ends_with(".go") {
        reads.extend(helper_calls(file));
    }
    if name.ends_with(".prisma") {
        reads.extend(prisma(file));
    }
    if name.ends_with(".yaml") || name.ends_with(".yml") {
        // Symfony: `%env(resolve:DATABASE_URL)%`; its `.env` gives defaults.
        reads.extend(simple(
            file,
            re!(r"%env\((?:\w+:)*([A-Z][A-Z0-9_]*)\)%"),
            "the configuration reads it",
        ));
    }
    if name.ends_with(".conf") {
        // HOCON (Ktor, Akka): `key = ${X}` must be set; `${?X}` overrides
        // the value before it when set.
        reads.extend(hocon(file));
    }
    reads
}

/// `url = env("DATABASE_URL")`: the client cannot connect without it.
/// `directUrl` and `shadowDatabaseUrl` are read only by `prisma migrate`
/// and `db push`, which fall back to `url` without them.
fn prisma(file: &FileEntry) -> Vec<EnvRead> {
    let found: Vec<_> = hits(
        file,
        re!(r#"(?m)^[ \t]*(\w+)[ \t]*=[ \t]*env\(\s*"(\w+)"\s*\)"#),
    )
    .filter_map(|hit| {
        let key = hit.group(1)?;
        Some((matches!(key, "directUrl" | "shadowDatabaseUrl"), hit))
    })
    .collect();
    // The same variable as the client's `url` is needed all the same.
    let needed: Vec<&str> = found
        .iter()
        .filter(|(migrations_only, _)| !migrations_only)
        .filter_map(|(_, hit)| hit.group(2))
        .collect();
    found
        .iter()
        .filter(|(migrations_only, hit)| {
            !migrations_only || !hit.group(2).is_some_and(|n| needed.contains(&n))
        })
        .filter_map(|(migrations_only, hit)| {
            let migrations_only = *migrations_only;
            Some(EnvRead {
                name: hit.group(2)?.to_owned(),
                default: migrations_only.then(|| super::env::COPES_WITHOUT.to_owned()),
                example: false,
                strict: !migrations_only,
                stops_at_load: false,
                at: hit
                    .spot()
                    .with_detail(format!("the schema reads it: {}", hit.quote())),
            })
        })
        .collect()
}

/// `key = ${X}` must be set; `key = ${?X}` overrides the value an earlier
/// `key = value` gave, which is then its default.
fn hocon(file: &FileEntry) -> Vec<EnvRead> {
    let text = file.content.as_deref().unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let mut reads = Vec::new();
    for hit in hits(
        file,
        re!(r"(?m)^[ \t]*([\w.-]+)[ \t]*[:=][ \t]*\$\{(\??)([A-Z][A-Z0-9_]*)\}"),
    ) {
        let key = hit.group(1).unwrap_or_default();
        let line = hit.line() as usize;
        let earlier = lines[..line.saturating_sub(1)]
            .iter()
            .rev()
            .take(4)
            .find_map(|l| {
                let (k, v) = l.split_once([':', '='])?;
                (k.trim() == key && !v.contains("${"))
                    .then(|| v.trim().trim_matches('"').to_owned())
            });
        reads.push(EnvRead {
            name: hit.group(3).unwrap_or_default().to_owned(),
            strict: hit.group(2) != Some("?"),
            stops_at_load: false,
            default: earlier.filter(|_| hit.group(2) == Some("?")),
            example: false,
            at: hit.spot(),
        });
    }
    reads
}

fn simple(file: &FileEntry, re: &'static regex::Regex, why: &str) -> Vec<EnvRead> {
    hits(file, re)
        .filter_map(|hit| {
            Some(EnvRead {
                name: hit.group(1)?.to_owned(),
                default: None,
                example: false,
                strict: true,
                stops_at_load: false,
                at: hit.spot().with_detail(format!("{why}: {}", hit.quote())),
            })
        })
        .collect()
}

/// `z.object({ X: z.string() })` parsed against `process.env`, envalid's
/// `cleanEnv(process.env, { X: str() })`, t3-env's `createEnv`: each field
/// must be set unless it is optional or has a default (envalid's
/// `devDefault` applies only outside production).
fn schema_fields(file: &FileEntry) -> Vec<EnvRead> {
    let text = file.content.as_deref().unwrap_or_default();
    let validates_env = re!(
        r"cleanEnv\s*\(\s*process\.env|createEnv\s*\(|\.(?:safe)?[pP]arse(?:Async)?\s*\(\s*process\.env|envsafe\s*\("
    );
    if !validates_env.is_match(text) {
        return Vec::new();
    }
    let field = re!(
        r"(?m)^([ \t]*)([A-Z][A-Z0-9_]*)\s*:\s*(?:z\b|str\(|num\(|bool\(|port\(|host\(|url\(|email\(|json\()"
    );
    schema_reads(file, field, |value| {
        !re!(r"\.optional\(\)|\.nullish\(\)|\.nullable\(\)|\.default\(|\bdefault\s*:|\.catch\(")
            .is_match(value)
    })
}

/// Joi's or yup's schema validated against `process.env`
/// (`schema.validate(process.env)`, `Joi.attempt(process.env, schema)`):
/// there a field is optional unless `.required()` says otherwise.
fn joi_fields(file: &FileEntry) -> Vec<EnvRead> {
    let text = file.content.as_deref().unwrap_or_default();
    let validates_env = re!(
        r"\.validate(?:Sync|Async)?\s*\(\s*process\.env\b|\battempt\s*\(\s*process\.env\b|\.assert\s*\(\s*process\.env\b"
    );
    if !validates_env.is_match(text) {
        return Vec::new();
    }
    let field = re!(r"(?m)^([ \t]*)([A-Z][A-Z0-9_]*)\s*:\s*(?:Joi|joi|yup|Yup)\s*\.");
    schema_reads(file, field, |value| {
        value.contains(".required()") && !value.contains(".default(")
    })
}

/// A read of each field `field` finds in `file` (its groups: the
/// indentation, the name), required as `required` judges its value.
fn schema_reads(
    file: &FileEntry,
    field: &regex::Regex,
    required: impl Fn(&str) -> bool,
) -> Vec<EnvRead> {
    let text = file.content.as_deref().unwrap_or_default();
    field
        .captures_iter(text)
        .filter_map(|caps| {
            let (indent, name) = (caps.get(1)?, caps.get(2)?);
            let value = field_value(text, name.end(), indent.as_str().len());
            let required = required(value);
            Some(EnvRead {
                name: name.as_str().to_owned(),
                default: (!required).then(String::new),
                example: false,
                strict: required,
                stops_at_load: false,
                at: Spot::at(
                    &file.path,
                    line_at(text, name.start()),
                    format!(
                        "the env schema declares it: {}",
                        quote(value.lines().next().unwrap_or_default())
                    ),
                ),
            })
        })
        .collect()
}

/// A field's value: the rest of its line, and the lines after it that are
/// indented deeper (a value spread over several lines).
fn field_value(text: &str, from: usize, indent: usize) -> &str {
    let mut end = text[from..].find('\n').map_or(text.len(), |n| from + n);
    while end < text.len() {
        let next = &text[end + 1..];
        let line = next.split('\n').next().unwrap_or_default();
        let depth = line.len() - line.trim_start().len();
        if line.trim().is_empty() || depth <= indent {
            break;
        }
        end += 1 + line.len();
    }
    &text[from..end]
}

/// `const env = process.env;` then `env.X`.
fn aliased(file: &FileEntry) -> Vec<EnvRead> {
    let text = file.content.as_deref().unwrap_or_default();
    let Some(alias) = re!(r"(?m)\b(?:const|let|var)\s+(\w+)\s*=\s*process\.env\s*;?\s*$")
        .captures_iter(text)
        .find_map(|c| c.get(1))
    else {
        return Vec::new();
    };
    let alias = alias.as_str();
    let mut reads = Vec::new();
    let mut from = 0;
    let needle = format!("{alias}.");
    while let Some(found) = text[from..].find(&needle) {
        let at = from + found;
        from = at + needle.len();
        let boundary =
            at == 0 || !text[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.');
        let name: String = text[from..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !boundary || name.is_empty() || !name.starts_with(|c: char| c.is_ascii_uppercase()) {
            continue;
        }
        let rest = text[from + name.len()..]
            .split('\n')
            .next()
            .unwrap_or_default();
        reads.push(EnvRead {
            name,
            default: super::env::operator_default(rest),
            example: false,
            strict: false,
            stops_at_load: false,
            at: Spot::at(
                &file.path,
                line_at(text, at),
                quote(super::scan::line_text(text, at)),
            ),
        });
    }
    reads
}

/// The project's own helper: `getEnv("X")`, `requireEnv('X')`,
/// `goDotEnvVariable("X")`; a second argument is its default.
fn helper_calls(file: &FileEntry) -> Vec<EnvRead> {
    let re = re!(
        r#"(?:^|[^.\w])(\w*(?:[eE]nv|ENV)\w*)\(\s*["'`]([A-Z][A-Z0-9_]*)["'`]\s*(?:,\s*([^)]*))?\)"#
    );
    hits(file, re)
        // Reads the patterns of `env.rs` already see.
        .filter(|hit| {
            !matches!(
                hit.group(1).unwrap_or_default(),
                "env" | "getenv" | "Getenv" | "LookupEnv" | "Setenv" | "setenv"
            )
        })
        .filter_map(|hit| {
            // A default that is no literal (`gin.DebugMode`) still makes the
            // variable optional, with no value to write for it.
            let default = hit
                .group(3)
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(|d| match super::env::literal_default(d) {
                    empty if empty.is_empty() && !matches!(d, "\"\"" | "''" | "``") => {
                        super::env::COPES_WITHOUT.to_owned()
                    }
                    literal => literal,
                });
            Some(EnvRead {
                name: hit.group(2)?.to_owned(),
                default,
                example: false,
                strict: false,
                stops_at_load: false,
                at: hit.spot(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(path: &str, code: &str) -> Vec<(String, bool)> {
        let file = FileEntry {
            path: path.to_owned(),
            size: code.len() as u64,
            content: Some(code.to_owned()),
            encoding: None,
        };
        reads(&file)
            .into_iter()
            .map(|r| (r.name, r.default.is_none()))
            .collect()
    }

    #[test]
    fn joi_and_yup_schemas_validated_against_the_environment() {
        let joi = "const envVarsSchema = Joi.object()\n  .keys({\n    NODE_ENV: Joi.string().valid('production', 'development', 'test').required(),\n    PORT: Joi.number().default(3000),\n    MONGODB_URL: Joi.string().required().description('Mongo DB url'),\n    SMTP_HOST: Joi.string().description('server that will send the emails'),\n  })\n  .unknown();\n\nconst { value: envVars, error } = envVarsSchema.prefs({ errors: { label: 'key' } }).validate(process.env);\n";
        assert_eq!(
            found("src/config/config.js", joi),
            [
                ("NODE_ENV".into(), true),
                ("PORT".into(), false),
                ("MONGODB_URL".into(), true),
                ("SMTP_HOST".into(), false)
            ]
        );
        let yup = "const schema = yup.object({\n  API_KEY: yup.string().required(),\n});\nexport const env = schema.validateSync(process.env);\n";
        assert_eq!(found("env.js", yup), [("API_KEY".into(), true)]);
        // A form's schema is not the environment's.
        assert!(
            found(
                "form.js",
                "const f = Joi.object({\n  NAME: Joi.string().required(),\n});\nf.validate(req.body);\n"
            )
            .is_empty()
        );
    }

    #[test]
    fn zod_and_envalid_schemas() {
        let zod = "const schema = z.object({\n  DATABASE_URL: z.string().url(),\n  LOG_LEVEL: z.string().default('info'),\n  SENTRY_DSN: z\n    .string()\n    .optional(),\n});\nexport const env = schema.parse(process.env);\n";
        assert_eq!(
            found("src/env.ts", zod),
            [
                ("DATABASE_URL".into(), true),
                ("LOG_LEVEL".into(), false),
                ("SENTRY_DSN".into(), false)
            ]
        );
        let envalid = "export const env = cleanEnv(process.env, {\n  SESSION_SECRET: str(),\n  APP_ORIGIN: str({ devDefault: testOnly('x') }),\n  RATE: num({ default: 10 }),\n});\n";
        assert_eq!(
            found("env.js", envalid),
            [
                ("SESSION_SECRET".into(), true),
                ("APP_ORIGIN".into(), true),
                ("RATE".into(), false)
            ]
        );
        // A schema that is not parsed against the environment is not env.
        assert!(
            found(
                "form.ts",
                "const f = z.object({\n  NAME: z.string(),\n});\n"
            )
            .is_empty()
        );
    }

    #[test]
    fn aliases_helpers_and_config_formats() {
        let alias = "const env = process.env;\nexport default () => ({ db: env.DATABASE_URL, level: env.LOG_LEVEL || 'info' });\n";
        assert_eq!(
            found("configuration.ts", alias),
            [("DATABASE_URL".into(), true), ("LOG_LEVEL".into(), false)]
        );
        let gin = "mode := getEnvWithDefault(\"GIN_MODE\", gin.DebugMode)\nkey := getEnvWithDefault(\"KEY\", \"secret\")\n";
        let file = FileEntry {
            path: "config.go".to_owned(),
            size: gin.len() as u64,
            content: Some(gin.to_owned()),
            encoding: None,
        };
        let defaults: Vec<Option<String>> =
            helper_calls(&file).into_iter().map(|r| r.default).collect();
        assert_eq!(
            defaults,
            [Some("None".to_owned()), Some("secret".to_owned())]
        );
        let go = "// Lire la configuration’\nfunc goDotEnvVariable(key string) string {\n\treturn os.Getenv(key)\n}\nuser :=’goDotEnvVariable(\"DB_USER\")\nport := getEnvOr(\"PORT\", \"8080\")\n";
        assert_eq!(
            found("database.go", go),
            [("DB_USER".into(), true), ("PORT".into(), false)]
        );
        assert_eq!(
            found(
                "prisma/schema.prisma",
                "datasource db {\n  url = env(\"DATABASE_URL\")\n}\n"
            ),
            [("DATABASE_URL".into(), true)]
        );
        assert_eq!(
            found(
                "config/packages/doctrine.yaml",
                "doctrine:\n  dbal:\n    url: '%env(resolve:DATABASE_URL)%'\n"
            ),
            [("DATABASE_URL".into(), true)]
        );
        assert_eq!(
            found(
                "src/main/resources/application.conf",
                "db {\n  host = \"db.internal\"\n  host = ${?DB_HOST}\n  password = ${DB_PASSWORD}\n  user = ${?DB_USER}\n}\n"
            ),
            [
                ("DB_HOST".into(), false),
                ("DB_PASSWORD".into(), true),
                ("DB_USER".into(), true)
            ]
        );
    }
}
