//! Health probes run inside the app's container: each uses a program the
//! image is known to have, since slim images carry neither curl nor wget.

/// What can make an HTTP request inside the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Probe {
    Wget,
    Curl,
    Python,
    Node,
    Bun,
    Deno,
    Ruby,
    Php,
    /// Nothing known: no healthcheck is written.
    None,
}

impl Probe {
    /// The probe an image of `language` surely has (its own runtime), for
    /// Dockerfiles deployflow did not write.
    pub fn for_runtime(language: &str) -> Probe {
        match language {
            "python" => Probe::Python,
            "node" | "typescript" => Probe::Node,
            "bun" => Probe::Bun,
            "deno" => Probe::Deno,
            "ruby" => Probe::Ruby,
            "php" => Probe::Php,
            _ => Probe::None,
        }
    }

    /// The compose `healthcheck.test` that fetches `path` on `port`.
    pub fn test(self, port: u16, path: &str) -> Option<Vec<String>> {
        let url = format!("http://127.0.0.1:{port}{path}");
        let fetch_js =
            format!("fetch('{url}').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))");
        let argv: Vec<String> = match self {
            Probe::Wget => vec![
                "wget".into(),
                "-q".into(),
                "-O".into(),
                "/dev/null".into(),
                url,
            ],
            Probe::Curl => vec![
                "curl".into(),
                "-fsS".into(),
                "-o".into(),
                "/dev/null".into(),
                url,
            ],
            Probe::Python => vec![
                "python".into(),
                "-c".into(),
                format!("import urllib.request; urllib.request.urlopen('{url}', timeout=4)"),
            ],
            // `fetch` is Node 18's: an image of Node 16 (an app that pins
            // it) or a repository's `node:12` has only `http`.
            Probe::Node => vec![
                "node".into(),
                "-e".into(),
                format!(
                    "require('http').get('{url}', r => process.exit(r.statusCode < 400 ? 0 : 1)).on('error', () => process.exit(1))"
                ),
            ],
            Probe::Bun => vec!["bun".into(), "-e".into(), fetch_js],
            Probe::Deno => vec![
                "deno".into(),
                "eval".into(),
                format!("const r = await fetch('{url}'); Deno.exit(r.ok ? 0 : 1)"),
            ],
            Probe::Ruby => vec![
                "ruby".into(),
                "-rnet/http".into(),
                "-e".into(),
                format!("exit Net::HTTP.get_response(URI('{url}')).is_a?(Net::HTTPSuccess)"),
            ],
            Probe::Php => vec![
                "php".into(),
                "-r".into(),
                format!("exit(@file_get_contents('{url}') === false ? 1 : 0);"),
            ],
            Probe::None => return None,
        };
        let mut test = vec!["CMD".to_owned()];
        test.extend(argv);
        Some(test)
    }
}
