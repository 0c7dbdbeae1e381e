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
            if STDLIB.contains(&module.as_str()) || own.contains(&module) {
                continue;
            }
            let dotted = module.clone();
            let distribution = DISTRIBUTIONS
                .iter()
                .find(|(name, _)| *name == dotted)
                .map_or(module, |(_, dist)| (*dist).to_owned());
            packages.insert(distribution);
        }
    }
    packages.into_iter().collect()
}

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

/// The top-level modules `import x.y` and `from x.y import z` name, at
/// any indentation; relative imports (`from . import`) are the app's own.
fn imports(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        let names: Vec<&str> = if let Some(rest) = line.strip_prefix("import ") {
            rest.split(',')
                .map(|part| part.split_whitespace().next().unwrap_or_default())
                .collect()
        } else if let Some(rest) = line.strip_prefix("from ") {
            rest.split_whitespace().next().into_iter().collect()
        } else {
            continue;
        };
        for name in names {
            if name.starts_with('.') || name.is_empty() {
                continue;
            }
            let google = name.starts_with("google.generativeai");
            let top = if google {
                "google.generativeai"
            } else {
                name.split('.').next().unwrap_or(name)
            };
            if top
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
            {
                found.push(top.to_owned());
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::imports;

    #[test]
    fn imports_are_read_at_any_indentation_and_relative_ones_skipped() {
        let text = "import os, sys\nimport yaml as y\nfrom flask import Flask\n    from PIL.Image import open\nfrom . import views\nfrom .models import X\n# import nothing\n";
        assert_eq!(imports(text), ["os", "sys", "yaml", "flask", "PIL"]);
    }
}
