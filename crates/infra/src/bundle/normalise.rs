//! Files the build reads as they are, but which its tools misread: text
//! saved as UTF-16 (pip and npm read UTF-8) and shell scripts with CRLF line
//! ends (`/bin/sh^M: not found`). Each is rewritten in the bundle, with the
//! reason; the repository's own file is left as it was.

use super::app_files::AppFiles;
use super::plan::Out;

pub(super) fn normalise(files: &AppFiles, out: &mut Out) {
    let prefix = match files.subdir() {
        "" => String::new(),
        dir => format!("{dir}/"),
    };
    for entry in &files.repo().files {
        if !entry.path.starts_with(&prefix) || out.files.contains_key(&entry.path) {
            continue;
        }
        let Some(text) = entry.content.as_deref() else {
            continue;
        };
        if let Some(encoding) = entry.encoding.as_deref() {
            out.write(
                &entry.path,
                text.replace("\r\n", "\n"),
                format!("The file is saved as {encoding} with a byte-order mark, which the build's tools (pip, npm) do not read: the bundle has the same text as UTF-8."),
            );
        } else if entry.path.ends_with(".sh") && text.contains("\r\n") {
            out.write(
                &entry.path,
                text.replace("\r\n", "\n"),
                "The script has Windows (CRLF) line ends, which make /bin/sh fail inside the container: the bundle has it with LF line ends.".to_owned(),
            );
        }
    }
}
