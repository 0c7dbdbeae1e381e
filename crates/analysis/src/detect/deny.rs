//! The sentence a person reads when a repository is not deployable.

use super::detection::{Detection, Kind};

pub(crate) fn reason(d: &Detection) -> String {
    let what = &d.kind_at.detail;
    let cite = d.kind_at.cite();
    let because = if what.is_empty() {
        cite
    } else {
        format!("{what} in {cite}")
    };
    const TAIL: &str = "deployflow deploys web services that listen for HTTP requests";
    match d.kind {
        Kind::Cli => {
            format!("This looks like a command-line tool ({because}) with no HTTP server; {TAIL}.")
        }
        Kind::Library => format!(
            "This looks like a library or SDK ({because}) that other code imports, not an application that serves HTTP; {TAIL}."
        ),
        Kind::Desktop => format!(
            "This looks like a desktop application ({because}); it opens windows rather than serving HTTP, and {TAIL}."
        ),
        Kind::Mobile => format!(
            "This looks like a mobile app ({because}); it runs on phones, not as an HTTP server, and {TAIL}."
        ),
        Kind::Bot => format!(
            "This looks like a chat bot that only makes outbound connections ({because}) and serves no HTTP; {TAIL}."
        ),
        Kind::Batch => format!(
            "This looks like a batch job, worker or scheduled script ({because}) with no HTTP server; {TAIL}."
        ),
        Kind::Notebook => format!(
            "This looks like a collection of Jupyter notebooks ({because}), not an app that serves HTTP; {TAIL}."
        ),
        Kind::Unknown => format!(
            "No HTTP server found: the {} code has no web framework or listening socket ({because}); {TAIL}.",
            language_name(d.language)
        ),
        Kind::Server | Kind::Static => String::new(),
    }
}

/// The message when nothing in the repository was recognised.
pub(crate) fn nothing_found() -> String {
    "No application found: the repository has no source files or manifests deployflow recognises \
     (Python, Node.js, Deno, Bun, Go, Rust, Java/Kotlin, Ruby, PHP, .NET or static HTML); \
     deployflow deploys web services that listen for HTTP requests."
        .to_owned()
}

fn language_name(language: &str) -> &str {
    match language {
        "python" => "Python",
        "node" => "Node.js",
        "typescript" => "TypeScript",
        "go" => "Go",
        "rust" => "Rust",
        "java" => "Java",
        "kotlin" => "Kotlin",
        "ruby" => "Ruby",
        "php" => "PHP",
        "csharp" => "C#",
        "deno" => "Deno",
        "bun" => "Bun",
        other => other,
    }
}
