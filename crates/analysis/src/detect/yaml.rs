//! Just enough YAML to read a dotted key from a config file
//! (`server.port` in application.yml) without a YAML parser: block
//! mappings by indentation, scalars on the key's line, and keys written
//! dotted (`server.port: 8080`) at any level.

/// The scalar at `dotted` (`server.port`) and its 1-based line.
pub(crate) fn lookup(text: &str, dotted: &str) -> Option<(String, u32)> {
    // (indent, key) of each open mapping above the current line.
    let mut stack: Vec<(usize, String)> = Vec::new();
    for (line, n) in text.lines().zip(1..) {
        let content = line.split(" #").next().unwrap_or(line).trim_end();
        let trimmed = content.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('-') {
            continue;
        }
        if trimmed == "---" {
            stack.clear();
            continue;
        }
        let indent = content.len() - trimmed.len();
        let Some((key, value)) = trimmed.split_once(':') else {
            continue;
        };
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        let key = key.trim().trim_matches(['"', '\'']);
        let mut path: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).collect();
        path.push(key);
        let value = value.trim();
        if value.is_empty() {
            stack.push((indent, key.to_owned()));
        } else if path.join(".") == dotted {
            return Some((value.trim_matches(['"', '\'']).to_owned(), n));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::lookup;

    #[test]
    fn nested_and_dotted_keys() {
        let text = "spring:\n  application:\n    name: x\nserver:\n  port: 9000 # the port\n";
        assert_eq!(lookup(text, "server.port"), Some(("9000".to_owned(), 5)));
        assert_eq!(
            lookup("server.port: ${PORT:8080}\n", "server.port"),
            Some(("${PORT:8080}".to_owned(), 1))
        );
        assert_eq!(
            lookup("quarkus:\n  http:\n    port: 8081\n", "quarkus.http.port").map(|v| v.0),
            Some("8081".to_owned())
        );
        assert_eq!(lookup("spring:\n  port: 1\n", "server.port"), None);
    }
}
