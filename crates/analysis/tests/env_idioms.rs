//! Idioms found in repositories the detectors were not written against:
//! how frameworks and config files say a variable is needed, and where a
//! PHP app is served. One idiom per test, on small made-up files.

use analysis::{Analysis, Requirements, Snapshot, analyse};

fn run(files: &[(&str, &str)]) -> Analysis {
    analyse(
        &Snapshot::from_texts(files.iter().copied()),
        &Requirements::default(),
    )
}

fn required(a: &Analysis) -> Vec<&str> {
    a.required_env.iter().map(String::as_str).collect()
}

fn listed(a: &Analysis, name: &str) -> bool {
    a.env.iter().any(|v| v.name == name)
}

const LARAVEL_COMPOSER: &str =
    r#"{"require":{"php":"^8.2","laravel/framework":"^11.0","tymon/jwt-auth":"^2.1"}}"#;

#[test]
fn a_laravel_jwt_guard_needs_jwt_secret_even_without_a_published_config() {
    let files = [
        ("composer.json", LARAVEL_COMPOSER),
        ("artisan", "#!/usr/bin/env php\n"),
        ("public/index.php", "<?php\n"),
        (".env.example", "APP_KEY=\nJWT_SECRET=\n"),
        (
            "config/auth.php",
            "<?php\nreturn [\n    'guards' => [\n        'api' => [\n            'driver' => 'jwt',\n            'provider' => 'users',\n        ],\n    ],\n];\n",
        ),
    ];
    let a = run(&files);
    assert!(required(&a).contains(&"JWT_SECRET"), "{:?}", a.required_env);
    let at = a
        .evidence
        .iter()
        .find(|e| e.fact == "env:JWT_SECRET")
        .unwrap();
    assert_eq!((at.file.as_str(), at.line), ("config/auth.php", Some(5)));

    // A session guard signs nothing: the package alone asks for no secret.
    let session = files.map(|(path, text)| match path {
        "config/auth.php" => (
            path,
            "<?php\nreturn ['guards' => ['web' => ['driver' => 'session']]];\n",
        ),
        ".env.example" => (path, "APP_KEY=\n"),
        _ => (path, text),
    });
    assert!(!listed(&run(&session), "JWT_SECRET"));
}

#[test]
fn a_php_fpm_app_is_served_on_the_port_of_its_nginx_fastcgi_block() {
    let nginx = "server {\n    listen 8081;\n    root /srv/app/public;\n    location ~ \\.php$ {\n        fastcgi_pass app:9000;\n    }\n}\n";
    let a = run(&[
        ("backend/composer.json", LARAVEL_COMPOSER),
        ("backend/artisan", "#!/usr/bin/env php\n"),
        ("backend/public/index.php", "<?php\n"),
        (
            "backend/Dockerfile",
            "FROM php:8.3-fpm\nEXPOSE 9000\nCMD [\"php-fpm\"]\n",
        ),
        ("ops/web/site.conf", nginx),
    ]);
    assert_eq!(a.port, Some(8081));
    let at = a.evidence.iter().find(|e| e.fact == "port").unwrap();
    assert_eq!((at.file.as_str(), at.line), ("ops/web/site.conf", Some(2)));

    // Without a web server in front, FastCGI's 9000 is not an HTTP port:
    // the framework's own server is what answers.
    let bare = run(&[
        ("composer.json", LARAVEL_COMPOSER),
        ("artisan", "#!/usr/bin/env php\n"),
        ("public/index.php", "<?php\n"),
        ("Dockerfile", "FROM php:8.3-fpm\nEXPOSE 9000\n"),
    ]);
    assert_eq!(bare.port, Some(8000));
}
