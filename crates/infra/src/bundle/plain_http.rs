//! A deployment answers on plain HTTP (no certificate). A Rails app whose
//! production settings force TLS (`config.force_ssl = true`, the default of
//! `rails new` since 7.1) redirects every request to `https://`, which
//! nothing answers, and `config.assume_ssl = true` marks its cookies
//! `Secure`, which browsers drop over HTTP: only `/up`, which Rails exempts,
//! would look healthy. Both settings follow a variable instead, off unless
//! set, so TLS in front of the app turns them back on.

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
