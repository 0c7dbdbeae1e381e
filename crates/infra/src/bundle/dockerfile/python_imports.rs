//! The packages a Python app without a dependency file imports: its
//! modules' top-level imports, less the standard library and the app's own
//! modules, each named by the distribution that provides it
//! (`PIL` → `Pillow`, `yaml` → `PyYAML`).

use std::collections::BTreeSet;

use crate::bundle::app_files::AppFiles;

/// Python 3.12's standard library: `sys.stdlib_module_names`, top level.
const STDLIB: &[&str] = &[
    "__future__",
    "_thread",
    "abc",
    "aifc",
    "argparse",
    "array",
    "ast",
    "asynchat",
    "asyncio",
    "asyncore",
    "atexit",
    "audioop",
    "base64",
    "bdb",
    "binascii",
    "bisect",
    "builtins",
    "bz2",
    "calendar",
    "cgi",
    "cgitb",
    "chunk",
    "cmath",
    "cmd",
    "code",
    "codecs",
    "codeop",
    "collections",
    "colorsys",
    "compileall",
    "concurrent",
    "configparser",
    "contextlib",
    "contextvars",
    "copy",
    "copyreg",
    "cProfile",
    "crypt",
    "csv",
    "ctypes",
    "curses",
    "dataclasses",
    "datetime",
    "dbm",
    "decimal",
    "difflib",
    "dis",
    "doctest",
    "email",
    "encodings",
    "ensurepip",
    "enum",
    "errno",
    "faulthandler",
    "fcntl",
    "filecmp",
    "fileinput",
    "fnmatch",
    "fractions",
    "ftplib",
    "functools",
    "gc",
    "getopt",
    "getpass",
    "gettext",
    "glob",
    "graphlib",
    "grp",
    "gzip",
    "hashlib",
    "heapq",
    "hmac",
    "html",
    "http",
    "idlelib",
    "imaplib",
    "imghdr",
    "importlib",
    "inspect",
    "io",
    "ipaddress",
    "itertools",
    "json",
    "keyword",
    "lib2to3",
    "linecache",
    "locale",
    "logging",
    "lzma",
    "mailbox",
    "mailcap",
    "marshal",
    "math",
    "mimetypes",
    "mmap",
    "modulefinder",
    "msvcrt",
    "multiprocessing",
    "netrc",
    "nis",
    "nntplib",
    "ntpath",
    "numbers",
    "operator",
    "optparse",
    "os",
    "ossaudiodev",
    "pathlib",
    "pdb",
    "pickle",
    "pickletools",
    "pipes",
    "pkgutil",
    "platform",
    "plistlib",
    "poplib",
    "posix",
    "posixpath",
    "pprint",
    "profile",
    "pstats",
    "pty",
    "pwd",
    "py_compile",
    "pyclbr",
    "pydoc",
    "queue",
    "quopri",
    "random",
    "re",
    "readline",
    "reprlib",
    "resource",
    "rlcompleter",
    "runpy",
    "sched",
    "secrets",
    "select",
    "selectors",
    "shelve",
    "shlex",
    "shutil",
    "signal",
    "site",
    "smtplib",
    "sndhdr",
    "socket",
    "socketserver",
    "spwd",
    "sqlite3",
    "sre_compile",
    "sre_constants",
    "sre_parse",
    "ssl",
    "stat",
    "statistics",
    "string",
    "stringprep",
    "struct",
    "subprocess",
    "sunau",
    "symtable",
    "sys",
    "sysconfig",
    "syslog",
    "tabnanny",
    "tarfile",
    "telnetlib",
    "tempfile",
    "termios",
    "textwrap",
    "threading",
    "time",
    "timeit",
    "tkinter",
    "token",
    "tokenize",
    "tomllib",
    "trace",
    "traceback",
    "tracemalloc",
    "tty",
    "turtle",
    "types",
    "typing",
    "unicodedata",
    "unittest",
    "urllib",
    "uu",
    "uuid",
    "venv",
    "warnings",
    "wave",
    "weakref",
    "webbrowser",
    "winreg",
    "winsound",
    "wsgiref",
    "xdrlib",
    "xml",
    "xmlrpc",
    "zipapp",
    "zipfile",
    "zipimport",
    "zlib",
    "zoneinfo",
];

/// Import names whose distribution is named otherwise.
const DISTRIBUTIONS: &[(&str, &str)] = &[
    ("PIL", "Pillow"),
    ("bs4", "beautifulsoup4"),
    ("cv2", "opencv-python-headless"),
    ("sklearn", "scikit-learn"),
    ("skimage", "scikit-image"),
    ("yaml", "PyYAML"),
    ("dotenv", "python-dotenv"),
    ("dateutil", "python-dateutil"),
    ("jwt", "PyJWT"),
    ("jose", "python-jose"),
    ("multipart", "python-multipart"),
    ("psycopg2", "psycopg2-binary"),
    ("MySQLdb", "mysqlclient"),
    ("pymysql", "PyMySQL"),
    ("attr", "attrs"),
    ("telegram", "python-telegram-bot"),
    ("discord", "discord.py"),
    ("magic", "python-magic"),
    ("serial", "pyserial"),
    ("Crypto", "pycryptodome"),
    ("socketio", "python-socketio"),
    ("engineio", "python-engineio"),
    ("slugify", "python-slugify"),
    ("docx", "python-docx"),
    ("pptx", "python-pptx"),
    ("fitz", "PyMuPDF"),
    ("google.generativeai", "google-generativeai"),
    ("google.genai", "google-genai"),
    ("google.cloud.storage", "google-cloud-storage"),
    ("google.cloud.firestore", "google-cloud-firestore"),
    ("google.cloud.bigquery", "google-cloud-bigquery"),
    ("google.cloud.pubsub", "google-cloud-pubsub"),
    ("google.cloud.pubsub_v1", "google-cloud-pubsub"),
    ("google.cloud.secretmanager", "google-cloud-secret-manager"),
    ("google.cloud.aiplatform", "google-cloud-aiplatform"),
    ("google.cloud.speech", "google-cloud-speech"),
    ("google.cloud.texttospeech", "google-cloud-texttospeech"),
    ("google.cloud.translate", "google-cloud-translate"),
    ("google.cloud.vision", "google-cloud-vision"),
    ("google.auth", "google-auth"),
    ("google.oauth2", "google-auth"),
    ("google_auth_oauthlib", "google-auth-oauthlib"),
    ("google.protobuf", "protobuf"),
    ("google.api_core", "google-api-core"),
    ("googleapiclient", "google-api-python-client"),
    ("sentence_transformers", "sentence-transformers"),
    ("OpenSSL", "pyOpenSSL"),
    ("markdown", "Markdown"),
    ("flask_sqlalchemy", "Flask-SQLAlchemy"),
    ("rest_framework", "djangorestframework"),
    ("corsheaders", "django-cors-headers"),
];

/// The distributions the app's imports name, sorted; empty when it imports
/// nothing outside the standard library and itself.
pub(super) fn inferred_packages(files: &AppFiles) -> Vec<String> {
    let sources = files.with_suffix(".py");
    let own = own_modules(&sources);
    let mut packages = BTreeSet::new();
    for path in &sources {
        if is_not_the_app(path) {
            continue;
        }
        for module in imports(files.text(path).unwrap_or_default()) {
            let top = module.split('.').next().unwrap_or_default();
            if STDLIB.contains(&top) || own.contains(top) {
                continue;
            }
            if let Some(distribution) = distribution(&module) {
                packages.insert(distribution);
            }
        }
    }
    packages.into_iter().collect()
}

/// The distribution a dotted module comes from: the longest dotted prefix
/// that names one, else its top-level name, except a namespace package
/// (`google`) that many distributions share and none is named after.
fn distribution(module: &str) -> Option<String> {
    let mut prefix = module;
    loop {
        if let Some((_, dist)) = DISTRIBUTIONS.iter().find(|(name, _)| *name == prefix) {
            return Some((*dist).to_owned());
        }
        match prefix.rsplit_once('.') {
            Some((shorter, _)) => prefix = shorter,
            None => break,
        }
    }
    (!NAMESPACE_PACKAGES.contains(&prefix)).then(|| prefix.to_owned())
}

/// Top-level packages shared by many distributions, none of them installed
/// by the package's own name (`pip install google` is an unrelated one).
const NAMESPACE_PACKAGES: &[&str] = &["google", "azure", "zope"];

/// Tests, virtualenvs and migrations are not what the image runs.
fn is_not_the_app(path: &str) -> bool {
    path.split('/').any(|part| {
        matches!(
            part,
            "tests" | "test" | "venv" | ".venv" | "env" | "site-packages"
        )
    }) || path
        .rsplit('/')
        .next()
        .is_some_and(|name| name.starts_with("test_"))
}

/// The app's own top-level modules and packages: `controller` of
/// `controller.py`, `app` of `app/__init__.py` or of any `app/…`.
fn own_modules(sources: &[&str]) -> BTreeSet<String> {
    sources
        .iter()
        .flat_map(|path| {
            let parts: Vec<&str> = path.split('/').collect();
            // Every folder on the way may be a package the app imports from.
            let folders = parts[..parts.len() - 1].iter().map(|p| (*p).to_owned());
            let file = parts
                .last()
                .and_then(|name| name.strip_suffix(".py"))
                .map(str::to_owned);
            folders.chain(file).collect::<Vec<_>>()
        })
        .collect()
}

/// The dotted modules `import x.y` and `from x.y import z` name (`x.y`, and
/// `x.y.z` for each name imported from it, which may be a submodule), at any
/// indentation; relative imports (`from . import`) are the app's own.
fn imports(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        let names: Vec<String> = if let Some(rest) = line.strip_prefix("import ") {
            rest.split(',')
                .map(|part| {
                    part.split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect()
        } else if let Some(rest) = line.strip_prefix("from ") {
            let mut words = rest.split_whitespace();
            let module = words.next().unwrap_or_default();
            let imported = match (words.next(), module.starts_with('.')) {
                (Some("import"), false) => words
                    .collect::<Vec<_>>()
                    .join(" ")
                    .split(',')
                    .filter_map(|part| part.split_whitespace().next())
                    .map(|name| name.trim_matches(['(', ')']))
                    .filter(|name| !name.is_empty() && *name != "*")
                    .map(|name| format!("{module}.{name}"))
                    .collect(),
                _ => Vec::new(),
            };
            if imported.is_empty() {
                vec![module.to_owned()]
            } else {
                imported
            }
        } else {
            continue;
        };
        for name in names {
            if name.starts_with('.') || name.is_empty() {
                continue;
            }
            if name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
            {
                found.push(name);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::{distribution, imports};

    #[test]
    fn imports_are_read_at_any_indentation_and_relative_ones_skipped() {
        let text = "import os, sys\nimport yaml as y\nfrom flask import Flask\n    from PIL.Image import open\nfrom . import views\nfrom .models import X\n# import nothing\n";
        assert_eq!(
            imports(text),
            ["os", "sys", "yaml", "flask.Flask", "PIL.Image.open"]
        );
    }

    #[test]
    fn a_dotted_module_comes_from_its_longest_known_prefix() {
        let text = "from google.cloud import storage, firestore\nimport google.generativeai as genai\nfrom google.oauth2 import service_account\nimport google\nfrom flask import (Flask,\n";
        let found: Vec<Option<String>> = imports(text).iter().map(|m| distribution(m)).collect();
        let expected = [
            Some("google-cloud-storage"),
            Some("google-cloud-firestore"),
            Some("google-generativeai"),
            Some("google-auth"),
            None,
            Some("flask"),
        ];
        assert_eq!(found, expected.map(|d| d.map(str::to_owned)));
        assert_eq!(distribution("yaml.loader").as_deref(), Some("PyYAML"));
    }
}
