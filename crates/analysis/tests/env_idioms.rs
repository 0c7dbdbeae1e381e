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

#[test]
fn nest_config_service_reads_are_environment_reads() {
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"start:prod":"node dist/main"},"dependencies":{"@nestjs/core":"10","@nestjs/config":"3"}}"#,
        ),
        (
            "src/main.ts",
            "import { NestFactory } from '@nestjs/core';\nasync function bootstrap() {\n  const app = await NestFactory.create(AppModule);\n  await app.listen(3000);\n}\nbootstrap();\n",
        ),
        (
            "src/feed/feed.service.ts",
            "import { ConfigService } from '@nestjs/config';\nexport class FeedService {\n  constructor(private config: ConfigService) {}\n  private upstream = this.config.get<string>('UPSTREAM_API');\n  private token = this.config.getOrThrow('FEED_TOKEN');\n  private pageSize = this.config.get('PAGE_SIZE', 20);\n  private region = this.config.get('storage.region');\n}\n",
        ),
    ]);
    assert_eq!(required(&a), ["FEED_TOKEN", "UPSTREAM_API"]);
    assert!(
        listed(&a, "PAGE_SIZE"),
        "a read with a default is still listed"
    );
    assert!(
        !listed(&a, "storage.region"),
        "a dotted key is configuration"
    );
}

#[test]
fn an_auth_library_without_a_secret_reads_its_own_and_sole_oauth_sign_in_needs_its_client() {
    let app = |auth: &'static str| {
        run(&[
            (
                "package.json",
                r#"{"scripts":{"start":"next start"},"dependencies":{"next":"15","better-auth":"1"}}"#,
            ),
            (
                "app/page.tsx",
                "export default function Page() { return null }\n",
            ),
            ("lib/auth.ts", auth),
        ])
    };
    let social_only = app(
        "import { betterAuth } from \"better-auth\";\nexport const auth = betterAuth({\n  socialProviders: {\n    github: {\n      clientId: process.env.GITHUB_CLIENT_ID!,\n      clientSecret: process.env.GITHUB_CLIENT_SECRET!,\n    },\n  },\n});\n",
    );
    assert_eq!(
        required(&social_only),
        [
            "BETTER_AUTH_SECRET",
            "GITHUB_CLIENT_ID",
            "GITHUB_CLIENT_SECRET"
        ]
    );
    // With passwords as another way in, the OAuth app is an option; a
    // secret passed in the configuration is read where the code says.
    let with_passwords = app(
        "import { betterAuth } from \"better-auth\";\nexport const auth = betterAuth({\n  secret: process.env.SESSION_SECRET,\n  emailAndPassword: { enabled: true },\n  socialProviders: {\n    github: {\n      clientId: process.env.GITHUB_CLIENT_ID!,\n      clientSecret: process.env.GITHUB_CLIENT_SECRET!,\n    },\n  },\n});\n",
    );
    assert_eq!(required(&with_passwords), ["SESSION_SECRET"]);
}

#[test]
fn a_spring_credential_defaulting_to_empty_is_required_with_its_client_id() {
    let a = run(&[
        (
            "pom.xml",
            "<project><dependencies><dependency><artifactId>spring-boot-starter-web</artifactId></dependency></dependencies></project>",
        ),
        (
            "src/main/java/demo/App.java",
            "package demo;\n@SpringBootApplication\npublic class App { public static void main(String[] a) { SpringApplication.run(App.class, a); } }\n",
        ),
        (
            "src/main/resources/application.yml",
            "server:\n  port: ${PORT:8080}\nmusic:\n  client-id: ${MUSIC_CLIENT_ID:}\n  client-secret: ${MUSIC_CLIENT_SECRET:\"\"}\n  page-size: ${PAGE_SIZE:50}\n",
        ),
    ]);
    assert_eq!(required(&a), ["MUSIC_CLIENT_ID", "MUSIC_CLIENT_SECRET"]);
    assert_eq!(a.port, Some(8080));
}

#[test]
fn example_variables_that_only_configure_other_compose_services_are_not_asked() {
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node server.js"},"dependencies":{"express":"4","pg":"8"}}"#,
        ),
        (
            "server.js",
            "const express = require('express');\nconst pool = new Pool({ connectionString: process.env.DATABASE_URL });\nexpress().listen(4000);\n",
        ),
        (
            ".env.example",
            "DATABASE_URL=\nPG_ROOT_PASSWORD=\nADMINER_DESIGN=\nFEATURE_FLAGS=\n",
        ),
        (
            "docker-compose.yml",
            "services:\n  api:\n    build: .\n    environment:\n      DATABASE_URL: ${DATABASE_URL}\n      FEATURE_FLAGS: ${FEATURE_FLAGS}\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: ${PG_ROOT_PASSWORD}\n  adminer:\n    image: adminer\n    environment:\n      - ADMINER_DESIGN=${ADMINER_DESIGN:-nette}\n",
        ),
    ]);
    // FEATURE_FLAGS goes to the app's own service: it stays a question.
    assert_eq!(required(&a), ["DATABASE_URL", "FEATURE_FLAGS"]);
}

#[test]
fn a_mode_switch_read_into_a_name_and_only_compared_is_not_required() {
    let a = run(&[
        ("requirements.txt", "fastapi\nuvicorn\n"),
        (
            "app/settings.py",
            "import os\n\nDEPLOY_TARGET = os.getenv(\"DEPLOY_TARGET\")\nAPI_TOKEN = os.getenv(\"API_TOKEN\")\n\nif DEPLOY_TARGET == \"cloud\":\n    LOG_FORMAT = \"json\"\nelif DEPLOY_TARGET != 'local':\n    LOG_FORMAT = \"text\"\n\nHEADERS = {\"Authorization\": API_TOKEN}\n",
        ),
        (
            "app/main.py",
            "from fastapi import FastAPI\nfrom app import settings\napp = FastAPI()\n",
        ),
    ]);
    assert_eq!(required(&a), ["API_TOKEN"]);
    assert!(listed(&a, "DEPLOY_TARGET"));
}

#[test]
fn gin_mode_is_an_environment_switch() {
    let a = run(&[
        (
            "go.mod",
            "module demo\n\nrequire github.com/gin-gonic/gin v1.9.1\n",
        ),
        (
            "main.go",
            "package main\n\nimport (\n\t\"os\"\n\t\"github.com/gin-gonic/gin\"\n)\n\nfunc main() {\n\tgin.SetMode(os.Getenv(\"GIN_MODE\"))\n\tr := gin.Default()\n\tr.Run(\":8080\")\n}\n",
        ),
    ]);
    assert!(a.required_env.is_empty(), "{:?}", a.required_env);
}

#[test]
fn seeding_and_packaging_scripts_are_not_the_running_app() {
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node index.js","seed":"node scripts/seed.js"},"dependencies":{"express":"4"}}"#,
        ),
        (
            "index.js",
            "const express = require('express');\nconst db = process.env.MONGO_URL;\nexpress().listen(3000);\n",
        ),
        (
            "scripts/seed.js",
            "const owner = process.env.SEED_OWNER_ID;\n",
        ),
        (
            "db/seeds/users.js",
            "const pass = process.env.SEED_PASSWORD;\n",
        ),
        (
            "tools/setup.py",
            "import os\nKEY = os.environ['RELEASE_SIGNING_KEY']\n",
        ),
    ]);
    assert_eq!(required(&a), ["MONGO_URL"]);
}

#[test]
fn commands_run_by_hand_and_tests_are_not_the_running_app() {
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node index.js","deploy":"node deploy-commands.js"},"dependencies":{"discord.js":"14"}}"#,
        ),
        (
            "index.js",
            "const { Client } = require('discord.js');\nnew Client({}).login(process.env.DISCORD_TOKEN);\n",
        ),
        (
            "deploy-commands.js",
            "const clientId = process.env.DISCORD_CLIENT_ID;\nif (!clientId) throw new Error('no id');\n",
        ),
        (
            "test.js",
            "const key = process.env.INFURA;\nif (!key) throw new Error('no key');\n",
        ),
        ("src/bot.test.ts", "const t = process.env.TEST_TOKEN!;\n"),
    ]);
    assert_eq!(required(&a), ["DISCORD_TOKEN"]);
}

#[test]
fn gmail_credentials_belong_to_optional_mail() {
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node index.js"},"dependencies":{"express":"4","nodemailer":"6"}}"#,
        ),
        (
            "index.js",
            "const express = require('express');\nconst user = process.env.GMAIL_USER;\nconst pass = process.env.GMAIL_APP_PASSWORD;\nexpress().listen(3000);\n",
        ),
    ]);
    assert!(a.required_env.is_empty(), "{:?}", a.required_env);
}

#[test]
fn a_database_url_in_database_yml_carries_the_other_connection_parts() {
    let a = run(&[
        (
            "Gemfile",
            "source 'https://rubygems.org'\ngem 'rails', '~> 7.1'\ngem 'pg'\n",
        ),
        (
            "config/application.rb",
            "module Shop\n  class Application < Rails::Application\n  end\nend\n",
        ),
        ("config.ru", "run Rails.application\n"),
        ("config/master.key", "0123\n"),
        ("config/credentials.yml.enc", "x\n"),
        (
            "config/database.yml",
            "default: &default\n  adapter: postgresql\n\nproduction:\n  <<: *default\n  url: <%= ENV[\"DATABASE_URL\"] %>\n  username: shop\n  password: <%= ENV[\"SHOP_DATABASE_PASSWORD\"] %>\n\nstaging:\n  <<: *default\n  password: <%= ENV[\"STAGING_DB_PASSWORD\"] %>\n",
        ),
    ]);
    assert_eq!(required(&a), ["DATABASE_URL", "STAGING_DB_PASSWORD"]);
}

/// A default the code computes (`dirname(__DIR__)`, a constant) is no value
/// to write back: the variable is optional and its default says only that
/// the app has one of its own. Literal defaults keep their value.
#[test]
fn a_default_the_code_computes_is_not_taken_as_its_value() {
    let a = run(&[
        ("composer.json", LARAVEL_COMPOSER),
        ("artisan", "#!/usr/bin/env php\n"),
        ("public/index.php", "<?php\n"),
        (
            "bootstrap/app.php",
            "<?php\n$app = new Illuminate\\Foundation\\Application(\n    $_ENV['APP_BASE_PATH'] ?? dirname(__DIR__)\n);\n$tz = getenv('APP_TIMEZONE') ?: 'UTC';\n$workers = getenv('WORKERS') ?: 4;\n",
        ),
    ]);
    let default = |name: &str| {
        a.env
            .iter()
            .find(|v| v.name == name)
            .unwrap_or_else(|| panic!("{name} not listed: {:?}", a.env))
            .default
            .clone()
    };
    assert!(!required(&a).contains(&"APP_BASE_PATH"));
    assert_eq!(default("APP_BASE_PATH").unwrap_or_default(), "");
    assert_eq!(default("APP_TIMEZONE").as_deref(), Some("UTC"));
    assert_eq!(default("WORKERS").as_deref(), Some("4"));
}

/// `next.config.js` runs when the app is built: what it reads is needed by
/// the build; what only the server reads is not.
#[test]
fn a_variable_next_config_reads_is_read_at_build() {
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"build":"next build","start":"next start"},"dependencies":{"next":"14.2.0","react":"18.3.1"}}"#,
        ),
        (
            "next.config.js",
            "module.exports = {\n  env: {\n    SITE_NAME: process.env.SITE_NAME,\n  },\n};\n",
        ),
        (
            "pages/api/check.js",
            "export default function handler(req, res) {\n  res.json({ ok: req.query.key === process.env.API_SECRET });\n}\n",
        ),
        (
            "pages/index.js",
            "export default function Home() { return null; }\n",
        ),
    ]);
    let at_build = |name: &str| {
        a.env
            .iter()
            .find(|v| v.name == name)
            .unwrap_or_else(|| panic!("{name} not listed: {:?}", a.env))
            .read_at_build
    };
    assert!(at_build("SITE_NAME"));
    assert!(!at_build("API_SECRET"));
}

#[test]
fn an_ai_client_made_without_a_key_needs_the_variable_it_reads() {
    let flask = |code: &'static str| {
        run(&[
            ("requirements.txt", "flask\nopenai\nanthropic\n"),
            ("app.py", code),
        ])
    };
    let a = flask(
        "from flask import Flask\nfrom openai import OpenAI\n\napp = Flask(__name__)\nclient = OpenAI()\n",
    );
    assert_eq!(required(&a), ["OPENAI_API_KEY"]);
    let a = flask(
        "import os\nfrom flask import Flask\nfrom openai import OpenAI\n\napp = Flask(__name__)\nclient = OpenAI(api_key=os.getenv('LLM_KEY', 'sk-local'))\n",
    );
    assert!(
        !listed(&a, "OPENAI_API_KEY"),
        "given a key, the client reads none"
    );
    let a = flask(
        "from flask import Flask\nimport anthropic\n\napp = Flask(__name__)\nclient = anthropic.Anthropic(max_retries=3)\n",
    );
    assert_eq!(required(&a), ["ANTHROPIC_API_KEY"]);
    let express = |code: &'static str| {
        run(&[
            (
                "package.json",
                r#"{"dependencies":{"express":"^4","openai":"^4"}}"#,
            ),
            ("index.js", code),
        ])
    };
    let a = express(
        "const express = require('express');\nconst OpenAI = require('openai');\nconst openai = new OpenAI({ baseURL: 'https://api.example.test/v1' });\nexpress().listen(3000);\n",
    );
    assert_eq!(required(&a), ["OPENAI_API_KEY"]);
    let a = express(
        "const express = require('express');\nconst OpenAI = require('openai');\nconst openai = new OpenAI({ apiKey: process.env.AI_KEY ?? 'local' });\nexpress().listen(3000);\n",
    );
    assert!(!listed(&a, "OPENAI_API_KEY"));
    let a = express(
        "const express = require('express');\nconst OpenAI = require('openai');\nconst apiKey = process.env.AI_KEY ?? 'local';\nconst openai = new OpenAI({ apiKey });\nexpress().listen(3000);\n",
    );
    assert!(!listed(&a, "OPENAI_API_KEY"), "the shorthand passes a key");
}

#[test]
fn a_variable_read_only_once_it_is_known_to_be_set_is_optional() {
    let a = run(&[
        ("requirements.txt", "django\n"),
        ("manage.py", "import django\n"),
        (
            "shop/settings.py",
            "import os\nSECRET_KEY = os.environ['SECRET_KEY']\nif 'AWS_STORAGE_BUCKET_NAME' in os.environ:\n    AWS_STORAGE_BUCKET_NAME = os.environ['AWS_STORAGE_BUCKET_NAME']\n",
        ),
    ]);
    assert_eq!(required(&a), ["SECRET_KEY"]);
    assert!(listed(&a, "AWS_STORAGE_BUCKET_NAME"));
    let flask = |code: &'static str| run(&[("requirements.txt", "flask\n"), ("app.py", code)]);
    let a = flask(
        "import os\nfrom flask import Flask\napp = Flask(__name__)\nSEARCH_KEY = os.getenv('SEARCH_KEY')\nif SEARCH_KEY:\n    app.config['search'] = SEARCH_KEY\n",
    );
    assert!(required(&a).is_empty(), "{:?}", required(&a));
    let a = flask(
        "import os\nfrom flask import Flask\napp = Flask(__name__)\nSEARCH_KEY = os.getenv('SEARCH_KEY')\nif not SEARCH_KEY:\n    raise SystemExit('SEARCH_KEY is required')\nif SEARCH_KEY:\n    pass\n",
    );
    assert_eq!(required(&a), ["SEARCH_KEY"], "refused when unset");
    // A ternary on it picks one of two values: unset is one of them.
    let nest = run(&[
        ("package.json", r#"{"dependencies":{"express":"^4.18.0"}}"#),
        (
            "index.js",
            "const express = require('express');\nconst DOCKER_ENV = process.env.DOCKER_ENV;\nconst envFile = DOCKER_ENV ? '.docker.env' : '.env';\nconst token = process.env.TOKEN;\nconst parts = token?.split('.');\nexpress().listen(3000);\n",
        ),
    ]);
    assert!(listed(&nest, "DOCKER_ENV"));
    assert_eq!(required(&nest), ["TOKEN"]);
    let a = flask(
        "import os\nfrom flask import Flask\napp = Flask(__name__)\nTHEME = os.getenv('SITE_THEME')\ntheme = load(THEME) if THEME else None\n",
    );
    assert!(required(&a).is_empty(), "{:?}", required(&a));
}

#[test]
fn reads_in_a_block_that_runs_only_when_a_variable_is_set_are_optional() {
    let a = run(&[
        ("requirements.txt", "django\n"),
        ("manage.py", "import django\n"),
        (
            "site/settings.py",
            concat!(
                "import os\n",
                "SECRET_KEY = os.environ['SECRET_KEY']\n",
                "if \"PRIMARY_HOST\" in os.environ:\n",
                "    BASE_URL = \"https://{}\".format(os.environ[\"PRIMARY_HOST\"])\n",
                "if \"CSP_BASE_URI\" in os.environ:\n",
                "    CSP_BASE_URI = os.environ.get(\"CSP_BASE_URI\").split(\",\")\n",
                "if \"GS_BUCKET_NAME\" in os.environ:\n",
                "    GS_BUCKET_NAME = os.getenv(\"GS_BUCKET_NAME\")\n",
                "    GS_PROJECT_ID = os.getenv(\"GS_PROJECT_ID\")\n",
                "\n",
                "    # the bucket's zone\n",
                "    GS_ZONE = os.environ[\"GS_ZONE\"]\n",
                "if (\n",
                "    \"CF_TOKEN\" in os.environ\n",
                "    or \"CF_BEARER_TOKEN\" in os.environ\n",
                "):\n",
                "    ZONE = os.environ[\"CF_ZONEID\"]\n",
                "DEBUG_HOST = os.environ[\"STATS_HOST\"]\n",
                "if \"SENTRY_DSN\" not in os.environ:\n",
                "    RELEASE = os.environ[\"RELEASE_NAME\"]\n",
            ),
        ),
    ]);
    for name in [
        "PRIMARY_HOST",
        "CSP_BASE_URI",
        "GS_PROJECT_ID",
        "GS_ZONE",
        "CF_ZONEID",
    ] {
        assert!(listed(&a, name), "{name} is listed");
    }
    assert_eq!(
        required(&a),
        ["RELEASE_NAME", "SECRET_KEY", "STATS_HOST"],
        "a read after the block, or under a check that the variable is unset, is no guarded one"
    );
}

#[test]
fn an_example_file_the_app_loads_itself_gives_its_values() {
    let a = run(&[
        ("package.json", r#"{"dependencies":{"express":"^4.18.0"}}"#),
        (
            "app.js",
            "process.loadEnvFile('.env.example');\nconst express = require('express');\nconst github = { clientID: process.env.GITHUB_ID, secret: process.env.GITHUB_SECRET };\nconst mongo = process.env.MONGODB_URI;\nconst session = process.env.SESSION_SECRET;\nexpress().listen(process.env.PORT || 8080);\n",
        ),
        (
            ".env.example",
            "GITHUB_ID=abc123\nGITHUB_SECRET=\nMONGODB_URI=mongodb://localhost:27017/test\n",
        ),
    ]);
    assert!(listed(&a, "GITHUB_ID"));
    assert!(listed(&a, "GITHUB_SECRET"));
    assert!(!required(&a).contains(&"GITHUB_ID"), "{:?}", required(&a));
    assert!(
        !required(&a).contains(&"GITHUB_SECRET"),
        "{:?}",
        required(&a)
    );
    assert!(
        required(&a).contains(&"MONGODB_URI"),
        "an address of this machine is no value for a deployed app: {:?}",
        required(&a)
    );
    assert!(
        required(&a).contains(&"SESSION_SECRET"),
        "{:?}",
        required(&a)
    );
}

#[test]
fn a_ruby_read_checked_present_or_fetched_with_a_computed_default_is_optional() {
    let a = run(&[
        (
            "Gemfile",
            "source \"https://rubygems.org\"\ngem \"rails\", \"~> 7.1\"\n",
        ),
        (
            "config.ru",
            "require_relative \"config/environment\"\nrun Rails.application\n",
        ),
        (
            "config/environments/production.rb",
            concat!(
                "Rails.application.configure do\n",
                "  if ENV[\"LOGTAIL_API_KEY\"].present? && ENV[\"LOGTAIL_INGESTING_HOST\"].present?\n",
                "    config.logger = Logtail::Logger.create_default_logger(ENV[\"LOGTAIL_API_KEY\"], ingesting_host: ENV[\"LOGTAIL_INGESTING_HOST\"])\n",
                "  end\n",
                "  if ENV[\"MEMCACHIER_SERVERS\"]\n",
                "    config.cache_store = :mem_cache_store, ENV[\"MEMCACHIER_SERVERS\"].split(\",\"), { username: ENV[\"MEMCACHIER_USERNAME\"] }\n",
                "  end\n",
                "  config.hosts << ENV.fetch(\"APP_HOST\")\n",
                "end\n",
            ),
        ),
        (
            "app/controllers/hooks_controller.rb",
            "class HooksController < ApplicationController\n  def url\n    ENV.fetch(\"DEV_WEBHOOKS_URL\", root_url.chomp(\"/\"))\n  end\nend\n",
        ),
    ]);
    for name in [
        "LOGTAIL_API_KEY",
        "LOGTAIL_INGESTING_HOST",
        "DEV_WEBHOOKS_URL",
        "MEMCACHIER_USERNAME",
    ] {
        assert!(listed(&a, name), "{name} is listed");
        assert!(!required(&a).contains(&name), "{name} is optional");
    }
    assert!(required(&a).contains(&"APP_HOST"), "{:?}", required(&a));
}

/// A read whose own line runs only when the variable is set, in Ruby's
/// modifier form, a one-line JavaScript `if`, or a Python conditional.
#[test]
fn a_read_guarded_on_its_own_line_is_optional() {
    let ruby = run(&[
        (
            "Gemfile",
            "source 'https://rubygems.org'\ngem 'sinatra'\ngem 'puma'\ngem 'rack-canonical-host'\n",
        ),
        (
            "config.ru",
            "require 'sinatra/base'\nrequire 'rack/canonical_host'\n\nclass App < Sinatra::Base\n  get('/') { 'ok' }\nend\n\nuse Rack::CanonicalHost, ENV['CANONICAL_HOST'] if ENV['CANONICAL_HOST']\nrun App\n",
        ),
    ]);
    assert!(listed(&ruby, "CANONICAL_HOST"));
    assert!(
        !required(&ruby).contains(&"CANONICAL_HOST"),
        "{:?}",
        required(&ruby)
    );

    let node = run(&[
        ("package.json", r#"{"dependencies": {"express": "4"}}"#),
        (
            "server.js",
            "const express = require('express');\nconst app = express();\nif (process.env.SENTRY_DSN) Sentry.init({ dsn: process.env.SENTRY_DSN.trim() });\napp.listen(3000);\n",
        ),
    ]);
    assert!(listed(&node, "SENTRY_DSN"));
    assert!(
        !required(&node).contains(&"SENTRY_DSN"),
        "{:?}",
        required(&node)
    );
}

#[test]
fn an_apps_own_helper_that_stops_without_the_variable_makes_it_required() {
    let a = run(&[
        (
            "Cargo.toml",
            "[package]\nname = \"api\"\n\n[dependencies]\naxum = \"0.7\"\n",
        ),
        (
            "src/main.rs",
            "mod cfg;\nuse axum::Router;\n#[tokio::main]\nasync fn main() {\n    let cfg = cfg::load();\n    let app = Router::new();\n    let listener = tokio::net::TcpListener::bind(\"0.0.0.0:8080\").await.unwrap();\n    axum::serve(listener, app).await.unwrap();\n}\n",
        ),
        (
            "src/cfg.rs",
            "pub fn load() -> (String, String) {\n    (must(\"DATABASE_URL\"), must(\"POOL_SIZE\"))\n}\n\nfn must(name: &str) -> String {\n    std::env::var(name).expect(\"missing environment variable\")\n}\n",
        ),
    ]);
    let mut names = required(&a);
    names.sort();
    assert_eq!(names, ["DATABASE_URL", "POOL_SIZE"]);
    let a = run(&[
        ("requirements.txt", "flask\n"),
        (
            "app.py",
            "import os\nfrom flask import Flask\n\ndef setting(name, default=None):\n    return os.environ.get(name, default)\n\napp = Flask(__name__)\napp.config['MODE'] = setting('MODE')\n",
        ),
    ]);
    assert!(
        required(&a).is_empty(),
        "a helper with a default: {:?}",
        required(&a)
    );
}

#[test]
fn variables_the_images_start_command_expands_are_the_apps() {
    let a = run(&[
        (
            "pom.xml",
            "<project><parent><artifactId>spring-boot-starter-parent</artifactId></parent><dependencies><dependency><artifactId>spring-boot-starter-web</artifactId></dependency></dependencies></project>",
        ),
        (
            "src/main/java/app/App.java",
            "@SpringBootApplication\npublic class App { public static void main(String[] a) { SpringApplication.run(App.class, a); } }\n",
        ),
        (
            "Dockerfile",
            "FROM eclipse-temurin:21\nENV JAVA_OPTS=-Xmx512m\nCOPY target/app.jar app.jar\nENTRYPOINT java $JAVA_OPTS -jar app.jar --spring.datasource.url=$DB_URL --spring.datasource.username=${DB_USERNAME} --logging.level=${LOG_LEVEL:-info}\n",
        ),
        (
            "src/main/resources/application.properties",
            "spring.datasource.url=jdbc:postgresql://localhost:5432/library\nspring.datasource.username=admin\n",
        ),
    ]);
    let needed = required(&a);
    // The command line's datasource wins over Spring's variables.
    assert!(
        !needed.contains(&"SPRING_DATASOURCE_URL")
            && !needed.contains(&"SPRING_DATASOURCE_USERNAME"),
        "{needed:?}"
    );
    assert!(
        needed.contains(&"DB_URL") && needed.contains(&"DB_USERNAME"),
        "{needed:?}"
    );
    assert!(
        !needed.contains(&"JAVA_OPTS"),
        "set by the Dockerfile: {needed:?}"
    );
    assert!(!needed.contains(&"LOG_LEVEL"), "has a default: {needed:?}");
}

#[test]
fn an_image_baking_in_a_placeholder_or_the_developers_database_provides_nothing() {
    let needed = |url: &str| -> Vec<String> {
        let dockerfile = format!(
            "FROM python:3.12\nENV DATABASE_URL {url}\nCOPY . .\nCMD [\"python\", \"app.py\"]\n"
        );
        let a = run(&[
            ("requirements.txt", "flask\n"),
            (
                "app.py",
                "import os\nfrom flask import Flask\napp = Flask(__name__)\napp.config['DB'] = os.environ['DATABASE_URL']\napp.run(host='0.0.0.0')\n",
            ),
            ("Dockerfile", &dockerfile),
        ]);
        a.required_env
    };
    assert_eq!(needed("postgresql://shop:shop@db/shop"), ["DATABASE_URL"]);
    assert_eq!(
        needed("\"\""),
        ["DATABASE_URL"],
        "an empty ENV is a slot to fill"
    );
    assert_eq!(needed("your_database_url_here"), ["DATABASE_URL"]);
    assert!(needed("postgresql://shop@prod.db.internal.example:5432/shop").is_empty());
}

#[test]
fn what_npm_sets_for_every_script_is_not_asked() {
    let a = run(&[
        ("package.json", r#"{"dependencies":{"express":"^4"}}"#),
        (
            "index.js",
            "const version = process.env.npm_package_version;\nrequire('express')().get('/', (q, r) => r.send(version)).listen(3000);\n",
        ),
    ]);
    assert!(required(&a).is_empty(), "{:?}", required(&a));
}

#[test]
fn django_hosts_fixed_to_this_machine_are_pointed_out() {
    let project = |hosts: &'static str| {
        run(&[
            ("requirements.txt", "django\n"),
            (
                "manage.py",
                "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings')\n",
            ),
            ("shop/settings.py", hosts),
        ])
    };
    let a = project("INSTALLED_APPS = []\nALLOWED_HOSTS = ['localhost', '127.0.0.1']\n");
    assert!(
        a.notes.iter().any(|n| n.contains("ALLOWED_HOSTS")),
        "{:?}",
        a.notes
    );
    let a = project("INSTALLED_APPS = []\nALLOWED_HOSTS = []\n");
    assert!(
        a.notes.iter().any(|n| n.contains("ALLOWED_HOSTS to []")),
        "the new project's default answers localhost alone: {:?}",
        a.notes
    );
    let a = project("INSTALLED_APPS = []\nALLOWED_HOSTS = ['*']\n");
    assert!(!a.notes.iter().any(|n| n.contains("ALLOWED_HOSTS")));
}

#[test]
fn sveltekit_environment_modules_are_read() {
    let a = run(&[
        (
            "package.json",
            r#"{"devDependencies":{"@sveltejs/kit":"^2","@sveltejs/adapter-node":"^5","vite":"^6"}}"#,
        ),
        (
            "svelte.config.js",
            "import adapter from '@sveltejs/adapter-node';\nexport default { kit: { adapter: adapter() } };\n",
        ),
        (
            "src/lib/server/links.ts",
            "import { env } from '$env/dynamic/private';\nimport { STRIPE_SECRET } from '$env/static/private';\nexport const verify = (t: string) => `${env.SITE_URL}/verify/${t}`;\nexport const region = env.REGION ?? 'eu';\nexport const stripe = STRIPE_SECRET;\n",
        ),
    ]);
    let mut needed = required(&a);
    needed.sort();
    assert_eq!(needed, ["SITE_URL", "STRIPE_SECRET"]);
    assert!(listed(&a, "REGION"));
}

#[test]
fn clerk_in_a_next_app_needs_its_keys() {
    let a = run(&[
        (
            "package.json",
            r#"{"dependencies":{"next":"14.2.0","@clerk/nextjs":"^5"}}"#,
        ),
        (
            "middleware.ts",
            "import { clerkMiddleware } from '@clerk/nextjs/server';\nexport default clerkMiddleware();\n",
        ),
        (
            "app/page.tsx",
            "export default function Home() { return null }\n",
        ),
    ]);
    let mut needed = required(&a);
    needed.sort();
    assert_eq!(
        needed,
        ["CLERK_SECRET_KEY", "NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY"]
    );
}

#[test]
fn an_elixir_release_requires_what_it_fetches_or_raises_for() {
    let a = run(&[
        (
            "mix.exs",
            "defmodule Shop.MixProject do\n  use Mix.Project\n  defp deps, do: [{:phoenix, \"~> 1.7\"}]\nend\n",
        ),
        (
            "config/runtime.exs",
            "import Config\nconfig :shop, Shop.Repo, url: System.get_env(\"DATABASE_URL\") || raise \"DATABASE_URL is missing\"\nconfig :shop, secret: System.fetch_env!(\"SECRET_KEY_BASE\")\nconfig :shop, mail_key: System.get_env(\"SENDGRID_API_KEY\")\n",
        ),
    ]);
    let mut needed = required(&a);
    needed.sort();
    assert_eq!(needed, ["DATABASE_URL", "SECRET_KEY_BASE"]);
    assert!(listed(&a, "SENDGRID_API_KEY"));
}

#[test]
fn a_port_read_through_a_config_module_is_its_variables_default() {
    let a = run(&[
        (
            "package.json",
            r#"{"dependencies":{"express":"^4"},"devDependencies":{"vite":"^6"}}"#,
        ),
        (
            "src/index.js",
            "const express = require('express');\nconst config = require('./config');\nexpress().listen(config.server.port);\n",
        ),
        (
            "src/config.js",
            "module.exports = { server: { port: process.env.PORT || 8000 } };\n",
        ),
        (
            "vite.config.js",
            "export default { server: { port: process.env.PORT || 5173 } };\n",
        ),
    ]);
    assert_eq!(a.port, Some(8000), "{:?}", a.evidence);
}

#[test]
fn a_variable_converted_to_a_number_without_a_default_is_required() {
    let files = [
        ("requirements.txt", "fastapi\nuvicorn\n"),
        (
            "main.py",
            "import os\nfrom fastapi import FastAPI\napp = FastAPI()\nPORT = int(os.getenv(\"DATABASE_PORT\"))\nPOOL = int(os.getenv(\"POOL_SIZE\", \"5\"))\nTIMEOUT = float(os.environ.get(\"TIMEOUT\") or 3)\n",
        ),
    ];
    let a = run(&files);
    assert!(
        required(&a).contains(&"DATABASE_PORT"),
        "{:?}",
        a.required_env
    );
    assert!(!required(&a).contains(&"POOL_SIZE"), "{:?}", a.required_env);
    assert!(!required(&a).contains(&"TIMEOUT"), "{:?}", a.required_env);
}

#[test]
fn a_production_dockerfile_is_the_apps_over_the_development_one_compose_builds() {
    let files = [
        ("api/requirements.txt", "fastapi\nuvicorn\n"),
        (
            "api/main.py",
            "from fastapi import FastAPI\napp = FastAPI()\n",
        ),
        (
            "api/dev.Dockerfile",
            "FROM python:3.12-slim\nCOPY . .\nEXPOSE 8000\nCMD [\"uvicorn\", \"main:app\", \"--reload\", \"--host\", \"0.0.0.0\", \"--port\", \"8000\"]\n",
        ),
        (
            "api/prod.Dockerfile",
            "FROM python:3.12-slim\nCOPY . .\nEXPOSE 8080\nCMD [\"uvicorn\", \"main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"8080\"]\n",
        ),
        (
            "docker-compose.yml",
            "services:\n  api:\n    build:\n      context: ./api\n      dockerfile: dev.Dockerfile\n    ports: ['8001:8000']\n",
        ),
    ];
    let a = analyse(
        &Snapshot::from_texts(files.iter().copied()),
        &Requirements {
            app_hint: Some("api".to_owned()),
            ..Requirements::default()
        },
    );
    assert_eq!(a.subdir, "api");
    assert_eq!(a.port, Some(8080), "{:?}", a.start_command);
    assert!(!a.start_command.unwrap_or_default().contains("--reload"));
}

#[test]
fn an_image_baking_an_example_database_provides_none_of_its_credentials() {
    let files = [
        ("requirements.txt", "fastapi\nuvicorn\npymysql\n"),
        (
            "main.py",
            "import os\nfrom fastapi import FastAPI\napp = FastAPI()\nHOST = os.environ['DATABASE_HOST']\nUSER = os.environ['DATABASE_USERNAME']\nPASSWORD = os.environ['DATABASE_PASSWORD']\nKEY = os.environ['API_KEY']\n",
        ),
        (
            "Dockerfile",
            "FROM python:3.12-slim\nENV DATABASE_USERNAME=appuser\nENV DATABASE_PASSWORD=P4ssw0rd\nENV DATABASE_HOST=127.0.0.1\nENV API_KEY=k-123\nCOPY . .\nCMD [\"uvicorn\", \"main:app\", \"--host\", \"0.0.0.0\"]\n",
        ),
    ];
    let a = run(&files);
    for name in ["DATABASE_HOST", "DATABASE_USERNAME", "DATABASE_PASSWORD"] {
        assert!(required(&a).contains(&name), "{name}: {:?}", a.required_env);
    }
    assert!(!required(&a).contains(&"API_KEY"), "{:?}", a.required_env);
}

#[test]
fn a_client_made_with_its_own_variable_throws_without_it() {
    let package = r#"{"dependencies":{"express":"^4.19.0","resend":"^4.0.0","openai":"^4.0.0"}}"#;
    let files = [
        ("package.json", package),
        (
            "server.js",
            "const express = require('express');\nconst app = express();\napp.listen(3000);\n",
        ),
        (
            "lib/mail.js",
            "import { Resend } from 'resend';\nexport const resend = new Resend(process.env.RESEND_API_KEY);\n",
        ),
        (
            "lib/ai.js",
            "import OpenAI from 'openai';\nexport const ai = new OpenAI({ apiKey: process.env.OPENAI_API_KEY || 'none' });\n",
        ),
    ];
    let a = run(&files);
    assert!(
        required(&a).contains(&"RESEND_API_KEY"),
        "{:?}",
        a.required_env
    );
    assert!(
        !required(&a).contains(&"OPENAI_API_KEY"),
        "a fallback: {:?}",
        a.required_env
    );
}

#[test]
fn prismas_migration_urls_are_optional_and_auth_js_v5_reads_auth_secret() {
    let package = r#"{"scripts":{"build":"next build","start":"next start"},"dependencies":{"next":"14.1.0","next-auth":"^5.0.0-beta.4","@prisma/client":"^5.0.0"}}"#;
    let files = [
        ("package.json", package),
        (
            "app/page.tsx",
            "export default function Page() { return null }\n",
        ),
        (
            "prisma/schema.prisma",
            "datasource db {\n  provider  = \"postgresql\"\n  url       = env(\"DATABASE_URL\")\n  directUrl = env(\"DIRECT_URL\")\n}\nmodel Post {\n  id Int @id\n}\n",
        ),
        (
            "middleware.ts",
            "import NextAuth from \"next-auth\"\nimport authConfig from \"./auth.config\"\nconst { auth } = NextAuth(authConfig);\nexport default auth((req) => {});\n",
        ),
    ];
    let a = run(&files);
    let required = required(&a);
    assert!(required.contains(&"DATABASE_URL"), "{required:?}");
    assert!(required.contains(&"AUTH_SECRET"), "{required:?}");
    assert!(!required.contains(&"DIRECT_URL"), "{required:?}");
    assert!(!required.contains(&"NEXTAUTH_SECRET"), "{required:?}");
    assert!(listed(&a, "DIRECT_URL"));

    // The client's own url read through the same variable is needed.
    let mut files = files;
    files[2].1 = "datasource db {\n  provider  = \"postgresql\"\n  url       = env(\"DIRECT_URL\")\n  directUrl = env(\"DIRECT_URL\")\n}\nmodel Post {\n  id Int @id\n}\n";
    let a = run(&files);
    assert!(
        a.required_env.contains(&"DIRECT_URL".to_owned()),
        "{:?}",
        a.required_env
    );
}

/// `sqlx::migrate!().run(&pool)` runs before the listener binds: a call
/// named `run` whose argument is a pool, not an address.
#[test]
fn a_migration_run_before_the_listener_is_not_its_address() {
    let main = "#[tokio::main]\nasync fn main() {\n    let url = std::env::var(\"DATABASE_URL\").expect(\"DATABASE_URL\");\n    let pool = sqlx::PgPool::connect(&url).await.unwrap();\n    sqlx::migrate!().run(&pool).await.unwrap();\n    sqlx::query(\"SELECT 1\").bind(&url);\n    let listener = tokio::net::TcpListener::bind(\"0.0.0.0:8080\").await.unwrap();\n    let reply = \"HTTP/1.1 200 OK\\r\\n\\r\\n\";\n}\n";
    let a = run(&[
        (
            "Cargo.toml",
            "[package]\nname = \"visits\"\nversion = \"0.1.0\"\n\n[dependencies]\nsqlx = { version = \"0.8\", features = [\"postgres\", \"macros\"] }\ntokio = \"1\"\n",
        ),
        ("src/main.rs", main),
    ]);
    assert_eq!(a.port, Some(8080));
    assert_eq!(a.port_env, None);
    assert!(
        a.required_env.contains(&"DATABASE_URL".to_owned()),
        "{:?}",
        a.required_env
    );
}

#[test]
fn a_rust_listener_writing_http_status_lines_by_hand_is_a_server() {
    let main = "use std::net::TcpListener;\nconst OK: &str = \"HTTP/1.1 200 OK\\r\\n\\r\\n\";\nfn main() {\n    let listener = TcpListener::bind(\"0.0.0.0:8080\").unwrap();\n    for stream in listener.incoming() {}\n}\n";
    let a = run(&[
        (
            "Cargo.toml",
            "[package]\nname = \"hand\"\nversion = \"0.1.0\"\n\n[dependencies]\npostgres = \"0.19\"\n",
        ),
        ("src/main.rs", main),
    ]);
    assert!(a.http, "{:?}", a.deny_reason);
    assert_eq!(a.port, Some(8080));
    assert_eq!(a.start_command.as_deref(), Some("./target/release/hand"));
    // A listener that speaks another protocol is no web server.
    let a = run(&[
        (
            "Cargo.toml",
            "[package]\nname = \"echo\"\nversion = \"0.1.0\"\n",
        ),
        (
            "src/main.rs",
            "use std::net::TcpListener;\nfn main() { let l = TcpListener::bind(\"0.0.0.0:7\").unwrap(); }\n",
        ),
    ]);
    assert!(!a.http);
}

#[test]
fn puma_answers_on_its_own_port_whatever_the_dockerfile_exposes() {
    let a = run(&[
        ("config.ru", "require './app'\nrun Sinatra::Application\n"),
        ("app.rb", "require 'sinatra'\nget '/' do\n  'hi'\nend\n"),
        (
            "Gemfile",
            "source 'https://rubygems.org'\ngem 'sinatra'\ngem 'puma'\n",
        ),
        (
            "Dockerfile",
            "FROM ruby\nWORKDIR /app\nADD . /app\nRUN bundle install\nEXPOSE 80\nCMD [\"puma\"]\n",
        ),
    ]);
    assert_eq!(a.port, Some(9292), "{:?}", a.notes);
}

/// A Dockerfile at the root that copies the app's folder in is the app's,
/// and an example database baked into its `ENV` (a local host, its user and
/// password) provides none of what its start command expands.
#[test]
fn a_root_dockerfile_copying_the_app_in_expands_an_example_database() {
    let files = [
        (
            "Dockerfile",
            "FROM golang:1.21\nENV PG_HOST=localhost\nENV PG_PORT=5432\nENV PG_USER=root\nENV PG_PASSWORD=1234\nENV LISTEN=8080\nCOPY src /src\nRUN cd /src && go build -o /app\nCMD /app --listen=:$LISTEN --db=\"postgres://$PG_USER:$PG_PASSWORD@$PG_HOST:$PG_PORT/app\"\n",
        ),
        ("src/go.mod", "module x\n\ngo 1.21\n"),
        (
            "src/main.go",
            "package main\n\nimport \"net/http\"\n\nfunc main() {\n\thttp.ListenAndServe(\":8080\", nil)\n}\n",
        ),
    ];
    let a = run(&files);
    assert_eq!(a.subdir, "src");
    assert!(a.dockerized, "the root Dockerfile copies src in");
    let mut needed = required(&a);
    needed.sort_unstable();
    assert_eq!(needed, ["PG_HOST", "PG_PASSWORD", "PG_USER"]);
    // A Dockerfile that copies another folder is not this app's.
    let other = files.map(|(path, text)| match path {
        "Dockerfile" => (path, "FROM nginx\nCOPY html /usr/share/nginx/html\n"),
        _ => (path, text),
    });
    assert!(!run(&other).dockerized);
}

/// Kotlin reads the environment as a map and fails with `?: throw` or `!!`;
/// the dotenv crates' `var` is Rust's `env::var`.
#[test]
fn kotlin_map_reads_that_throw_and_dotenv_var_that_expects_are_required() {
    let kotlin = run(&[
        (
            "build.gradle.kts",
            "dependencies { implementation(\"io.ktor:ktor-server-netty:2.3.0\") }\n",
        ),
        (
            "src/main/kotlin/App.kt",
            "import io.ktor.server.netty.*\nfun check() {\n    val mongo = System.getenv()[\"MONGO_URL\"] ?: throw RuntimeException(\"no\")\n    val auth = System.getenv().get(\"AUTH_URL\")!!\n    val mode = System.getenv()[\"MODE\"] ?: \"dev\"\n}\n",
        ),
    ]);
    let mut needed = required(&kotlin);
    needed.sort_unstable();
    assert_eq!(needed, ["AUTH_URL", "MONGO_URL"]);
    assert!(listed(&kotlin, "MODE"));

    let rust = run(&[
        (
            "Cargo.toml",
            "[package]\nname = \"x\"\n\n[dependencies]\naxum = \"0.7\"\ndotenv = \"0.15\"\n",
        ),
        (
            "src/main.rs",
            "use axum::Router;\nfn main() {\n    let secret = dotenv::var(\"JWT_SECRET\")\n        .expect(\"config\");\n    let name = dotenvy::var(\"APP_NAME\").unwrap_or_default();\n}\n",
        ),
    ]);
    assert_eq!(required(&rust), ["JWT_SECRET"]);
    assert!(listed(&rust, "APP_NAME"));
}

/// A worker whose image bakes its broker as localhost, with a user and a
/// password of the same prefix: none of them works once deployed.
#[test]
fn a_baked_local_broker_address_makes_its_credentials_examples_too() {
    let a = run(&[
        (
            "Dockerfile",
            "FROM python:3.12\nENV BROKER_USER root\nENV BROKER_PASSWORD root\nENV BROKER_ADDRESS localhost\nENV LISTEN_ADDRESS 0.0.0.0:8000\nCOPY worker.py ./\nENTRYPOINT python worker.py\n",
        ),
        ("requirements.txt", "celery\n"),
        (
            "worker.py",
            "import os\nfrom celery import Celery\nuser = os.environ[\"BROKER_USER\"]\npassword = os.environ[\"BROKER_PASSWORD\"]\naddress = os.environ[\"BROKER_ADDRESS\"]\nlisten = os.environ[\"LISTEN_ADDRESS\"]\napp = Celery(\"w\", broker=f\"amqp://{user}:{password}@{address}\")\n",
        ),
    ]);
    let mut needed = required(&a);
    needed.sort_unstable();
    assert_eq!(needed, ["BROKER_ADDRESS", "BROKER_PASSWORD", "BROKER_USER"]);
}

/// An operand of `or` in an `if` is a test of whether it is set; a service
/// worker's reads are the browser's.
#[test]
fn an_operand_of_a_condition_and_a_service_worker_read_nothing_required() {
    let a = run(&[
        ("requirements.txt", "django\n"),
        (
            "manage.py",
            "import os\nimport django\nif not (os.getenv(\"RUN_MAIN\") or os.environ.get('WERKZEUG_RUN_MAIN')):\n    print('debugger')\n",
        ),
        ("site/wsgi.py", "application = None\n"),
        (
            "frontend/src/serviceWorker.js",
            "const url = new URL(process.env.PUBLIC_URL, window.location.href);\n",
        ),
    ]);
    assert!(required(&a).is_empty(), "{:?}", a.required_env);
}

/// A variable the start command expands after a colon is a port: the
/// image's value is its default (a bare number, not an address).
#[test]
fn a_variable_expanded_after_a_colon_is_a_port_with_the_image_value() {
    let a = run(&[
        (
            "Dockerfile",
            "FROM golang:1.21\nENV LISTEN_POST=8080\nCOPY . /src\nRUN cd /src && go build -o /app\nCMD /app --listen=:$LISTEN_POST\n",
        ),
        ("go.mod", "module x\n\ngo 1.21\n"),
        (
            "main.go",
            "package main\n\nimport \"net/http\"\n\nfunc main() {\n\thttp.ListenAndServe(\":8080\", nil)\n}\n",
        ),
    ]);
    let listen = a.env.iter().find(|v| v.name == "LISTEN_POST").unwrap();
    assert_eq!(listen.default.as_deref(), Some("8080"));
    assert!(!listen.required);
}

#[test]
fn a_variable_spring_makes_its_datasource_url_of_holds_a_jdbc_url() {
    let pom = "<project><dependencies><dependency><artifactId>spring-boot-starter-web</artifactId></dependency><dependency><artifactId>spring-boot-starter-data-jpa</artifactId></dependency><dependency><artifactId>mysql-connector-j</artifactId></dependency></dependencies></project>";
    let yaml = "spring:\n  datasource:\n    url: ${MYSQL_URL}\n    username: ${MYSQL_USER:root}\n  data:\n    redis:\n      url: ${REDIS_URL}\n";
    let a = run(&[
        ("pom.xml", pom),
        (
            "src/main/java/app/App.java",
            "@SpringBootApplication\npublic class App {}\n",
        ),
        ("src/main/resources/application.yml", yaml),
    ]);
    let scheme = |name: &str| {
        a.env
            .iter()
            .find(|v| v.name == name)
            .and_then(|v| v.url_scheme.clone())
    };
    assert_eq!(scheme("MYSQL_URL").as_deref(), Some("jdbc"), "{:#?}", a.env);
    assert_eq!(scheme("REDIS_URL"), None);

    let properties = "spring.datasource.url=${DB_URL:jdbc:postgresql://localhost:5432/app}\n";
    let a = run(&[
        ("pom.xml", pom),
        ("src/main/resources/application.properties", properties),
    ]);
    let db_url = a.env.iter().find(|v| v.name == "DB_URL").unwrap();
    assert!(
        db_url
            .url_scheme
            .as_deref()
            .is_some_and(|s| s.starts_with("jdbc")),
        "{db_url:?}"
    );
}

#[test]
fn a_laravel_app_on_sqlite_needs_no_database_server_settings() {
    let config = "<?php\nreturn [\n    'default' => env('DB_CONNECTION', 'sqlite'),\n    'connections' => [\n        'mysql' => [\n            'host' => env('DB_HOST', '127.0.0.1'),\n            'database' => env('DB_DATABASE', 'laravel'),\n            'username' => env('DB_USERNAME', 'root'),\n            'password' => env('DB_PASSWORD', ''),\n        ],\n    ],\n];\n";
    let files = |example: &'static str| {
        [
            ("composer.json", LARAVEL_COMPOSER),
            ("artisan", "#!/usr/bin/env php\n"),
            ("public/index.php", "<?php\n"),
            ("config/database.php", config),
            (".env.example", example),
        ]
    };
    let sqlite = run(&files(
        "DB_CONNECTION=sqlite\nDB_HOST=127.0.0.1\nDB_USERNAME=root\nDB_PASSWORD=\n",
    ));
    for name in ["DB_HOST", "DB_USERNAME", "DB_PASSWORD"] {
        assert!(
            !required(&sqlite).contains(&name),
            "{:?}",
            sqlite.required_env
        );
    }
    // A repository compose file running PostgreSQL beside the skeleton's
    // `DB_CONNECTION=sqlite` runs the app against the server.
    let mut with_compose =
        files("DB_CONNECTION=sqlite\nDB_HOST=127.0.0.1\nDB_USERNAME=root\nDB_PASSWORD=\n").to_vec();
    with_compose.push((
        "compose.yaml",
        "services:\n  app:\n    build: .\n  postgres:\n    image: postgres:17\n",
    ));
    assert!(required(&run(&with_compose)).contains(&"DB_HOST"));
    // On MySQL the server's address and credentials are the deployment's.
    let mysql = run(&files(
        "DB_CONNECTION=mysql\nDB_HOST=127.0.0.1\nDB_USERNAME=root\nDB_PASSWORD=\n",
    ));
    for name in ["DB_HOST", "DB_PASSWORD"] {
        assert!(required(&mysql).contains(&name), "{:?}", mysql.required_env);
    }
}

/// Rails in production signs cookies with `secret_key_base`: from the
/// encrypted credentials when the repository has them (their key is then
/// what must be given), else from `SECRET_KEY_BASE`.
#[test]
fn a_rails_app_without_credentials_needs_secret_key_base() {
    let rails = |extra: &[(&'static str, &'static str)]| {
        let mut files = vec![
            (
                "Gemfile",
                "source 'https://rubygems.org'\ngem 'rails', '~> 7.2'\ngem 'puma'\n",
            ),
            (
                "config/application.rb",
                "require 'rails/all'\nmodule Shop\n  class Application < Rails::Application\n  end\nend\n",
            ),
            ("config.ru", "run Rails.application\n"),
        ];
        files.extend_from_slice(extra);
        run(&files)
    };
    let bare = rails(&[]);
    assert!(
        required(&bare).contains(&"SECRET_KEY_BASE"),
        "{:?}",
        required(&bare)
    );
    let encrypted = rails(&[("config/credentials.yml.enc", "c2VjcmV0")]);
    assert!(required(&encrypted).contains(&"RAILS_MASTER_KEY"));
    assert!(!required(&encrypted).contains(&"SECRET_KEY_BASE"));
}

/// A variable the app sets itself (`process.env.X = …`, Django's
/// `os.environ.setdefault`) is read later, but never needs to be given.
#[test]
fn a_variable_the_app_sets_itself_is_not_required() {
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node server.js"},"dependencies":{"express":"4"}}"#,
        ),
        (
            "config/config.js",
            "process.env.TOKEN_TTL = 60 * 60 * 24 * 30;\nprocess.env.SEED = process.env.SEED || 'dev-seed';\n",
        ),
        (
            "server.js",
            "require('./config/config');\nconst express = require('express');\nconst app = express();\nconst ttl = Number(process.env.TOKEN_TTL);\nconst seed = process.env.SEED;\nconst db = process.env.MONGO_URI;\nmongoose.connect(db);\napp.listen(process.env.PORT || 3000);\n",
        ),
    ]);
    assert_eq!(required(&a), ["MONGO_URI"], "{:?}", a.env);
    assert!(
        !a.required_env
            .iter()
            .any(|v| v == "TOKEN_TTL" || v == "SEED")
    );
    let python = run(&[
        ("requirements.txt", "flask\n"),
        (
            "app.py",
            "import os\nos.environ[\"OPENAI_API_KEY\"] = load_from_vault()\nfrom flask import Flask\napp = Flask(__name__)\nclient_key = os.environ[\"OPENAI_API_KEY\"]\ntoken = os.environ[\"API_TOKEN\"]\n",
        ),
    ]);
    assert_eq!(required(&python), ["API_TOKEN"], "{:?}", python.env);
}

/// SQLAlchemy's async engine refuses a plain `postgresql://` (it loads
/// psycopg2): the URL it is handed keeps the async driver's scheme.
#[test]
fn a_url_for_the_async_engine_carries_its_driver() {
    let scheme = |files: &[(&str, &str)], name: &str| {
        run(files)
            .env
            .into_iter()
            .find(|v| v.name == name)
            .and_then(|v| v.url_scheme)
    };
    let main = "import os\nfrom fastapi import FastAPI\nfrom sqlalchemy.ext.asyncio import create_async_engine\nengine = create_async_engine(os.environ[\"DATABASE_URL\"])\napp = FastAPI()\n";
    assert_eq!(
        scheme(
            &[
                (
                    "requirements.txt",
                    "fastapi\nuvicorn\nsqlalchemy[asyncio]\nasyncpg==0.30.0\n"
                ),
                ("main.py", main),
            ],
            "DATABASE_URL"
        )
        .as_deref(),
        Some("postgresql+asyncpg")
    );
    // A sync engine, or no async driver: the store's own scheme.
    assert_eq!(
        scheme(
            &[
                (
                    "requirements.txt",
                    "fastapi\nuvicorn\nsqlalchemy\npsycopg2-binary\n"
                ),
                (
                    "main.py",
                    &main.replace("create_async_engine", "create_engine")
                ),
            ],
            "DATABASE_URL"
        ),
        None
    );
    // Of two URLs, the one named for async.
    let two = "import os\nfrom sqlalchemy.ext.asyncio import create_async_engine\nfrom fastapi import FastAPI\nASYNC_URL = os.getenv(\"ASYNC_DATABASE_URL\")\nSYNC_URL = os.environ[\"DATABASE_URL\"]\nengine = create_async_engine(ASYNC_URL)\napp = FastAPI()\n";
    let files = [
        ("requirements.txt", "fastapi\nasyncpg\nsqlalchemy\n"),
        ("main.py", two),
    ];
    assert_eq!(
        scheme(&files, "ASYNC_DATABASE_URL").as_deref(),
        Some("postgresql+asyncpg")
    );
    assert_eq!(scheme(&files, "DATABASE_URL"), None);
    // The engine is handed a name another module gave the value.
    let files = [
        (
            "requirements.txt",
            "fastapi\nasyncpg\nsqlalchemy\npsycopg2-binary\n",
        ),
        (
            "src/database.py",
            "import os\nASYNC_URL = os.getenv(\"SQLALCHEMY_DATABASE_URL\")\nSYNC_DATABASE_URL = os.getenv(\"DATABASE_URL\")\n",
        ),
        (
            "src/main.py",
            "from fastapi import FastAPI\nfrom sqlalchemy.ext.asyncio import create_async_engine\nfrom src.database import ASYNC_URL\nengine = create_async_engine(ASYNC_URL, echo=True)\napp = FastAPI()\n",
        ),
    ];
    assert_eq!(
        scheme(&files, "SQLALCHEMY_DATABASE_URL").as_deref(),
        Some("postgresql+asyncpg")
    );
    assert_eq!(scheme(&files, "DATABASE_URL"), None);
}

/// A Prisma schema of a generator and a datasource only (a template never
/// filled in, the data kept elsewhere) makes the app use no database: its
/// URL is not asked for. A model in any schema file of the folder is a use.
#[test]
fn an_unused_prisma_schema_asks_for_no_database() {
    let package = r#"{"scripts": {"start": "node server.js", "postinstall": "prisma generate"}, "dependencies": {"express": "^4.19.2", "@prisma/client": "^6.15.0"}, "devDependencies": {"prisma": "^6.15.0"}}"#;
    let schema = "generator client {\n  provider = \"prisma-client-js\"\n}\n\ndatasource db {\n  provider = \"postgresql\"\n  url      = env(\"DATABASE_URL\")\n}\n";
    let server = "const app = require('express')();\napp.get('/', (q, r) => r.send('ok'));\napp.listen(process.env.PORT || 3000);\n";
    let unused = run(&[
        ("package.json", package),
        ("prisma/schema.prisma", schema),
        ("server.js", server),
    ]);
    assert!(!listed(&unused, "DATABASE_URL"), "{:?}", unused.env);
    assert!(unused.datastores.is_empty(), "{:?}", unused.datastores);
    // Nor when the example file lists the URL for Prisma's CLI.
    let listed_for_the_cli = run(&[
        ("package.json", package),
        ("prisma/schema.prisma", schema),
        ("server.js", server),
        (
            ".env.example",
            "DATABASE_URL=\"postgres://USER:PASSWORD@HOST:5432/DBNAME\"\nSITE_NAME=Shop\n",
        ),
    ]);
    assert!(
        !listed(&listed_for_the_cli, "DATABASE_URL"),
        "{:?}",
        listed_for_the_cli.env
    );
    assert!(listed(&listed_for_the_cli, "SITE_NAME"));
    let used = run(&[
        ("package.json", package),
        ("prisma/schema/schema.prisma", schema),
        (
            "prisma/schema/user.prisma",
            "model User {\n  id Int @id\n}\n",
        ),
        ("server.js", server),
    ]);
    assert_eq!(required(&used), ["DATABASE_URL"], "{:?}", used.env);
}

/// A plain `mysql://` makes SQLAlchemy load mysqlclient, `postgresql://`
/// psycopg2: with only PyMySQL (or only psycopg 3) installed, the URL the
/// engine is made from names the driver the app has.
#[test]
fn a_url_for_a_sync_engine_names_the_only_driver_installed() {
    let scheme = |requirements: &str, main: &str| {
        run(&[("requirements.txt", requirements), ("main.py", main)])
            .env
            .into_iter()
            .find(|v| v.name == "SQLALCHEMY_URL")
            .and_then(|v| v.url_scheme)
    };
    let main = "import os\nfrom fastapi import FastAPI\nfrom sqlalchemy import create_engine\nengine = create_engine(os.environ[\"SQLALCHEMY_URL\"])\napp = FastAPI()\n";
    assert_eq!(
        scheme(
            "fastapi\nuvicorn\nSQLAlchemy==1.4.39\nPyMySQL==1.0.2\n",
            main
        )
        .as_deref(),
        Some("mysql+pymysql")
    );
    assert_eq!(
        scheme("fastapi\nsqlalchemy\npsycopg[binary]\n", main).as_deref(),
        Some("postgresql+psycopg")
    );
    // Flask-SQLAlchemy makes the engine from its config key.
    let flask = "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\napp = Flask(__name__)\napp.config[\"SQLALCHEMY_DATABASE_URI\"] = os.environ[\"SQLALCHEMY_URL\"]\ndb = SQLAlchemy(app)\n";
    assert_eq!(
        scheme("flask\nflask-sqlalchemy\npymysql\n", flask).as_deref(),
        Some("mysql+pymysql")
    );
    // The driver a plain scheme loads is there, or two kinds are: no choice.
    assert_eq!(
        scheme("fastapi\nsqlalchemy\npymysql\nmysqlclient\n", main),
        None
    );
    assert_eq!(
        scheme("fastapi\nsqlalchemy\npymysql\npsycopg2-binary\n", main),
        None
    );
}

/// A value given a name and checked through it later: a check that raises
/// makes it required, one that only warns leaves it optional.
#[test]
fn a_check_on_the_name_a_value_was_given_decides_whether_it_is_required() {
    let a = run(&[
        ("requirements.txt", "fastapi\nuvicorn\n"),
        (
            "main.py",
            "import os\nfrom fastapi import FastAPI\n\nGOOGLE_CLIENT_ID = os.getenv(\"GOOGLE_CLIENT_ID\")\nGOOGLE_CLIENT_SECRET = os.getenv(\"GOOGLE_CLIENT_SECRET\")\nif not GOOGLE_CLIENT_ID or not GOOGLE_CLIENT_SECRET:\n    raise RuntimeError(\"Google OAuth is not configured\")\n\nMAIL_KEY = os.getenv(\"ZEPTOMAIL_API_KEY\")\nif not MAIL_KEY:\n    print(\"warning: mail is off\")\n\nBOT_TOKEN = os.getenv(\"BOT_TOKEN\", \"\").strip()\n\ndef reply():\n    if not BOT_TOKEN:\n        print(\"no token\")\n\ndef main():\n    if not BOT_TOKEN:\n        raise RuntimeError(\"BOT_TOKEN is missing\")\n\napp = FastAPI()\n",
        ),
    ]);
    assert_eq!(
        required(&a),
        ["BOT_TOKEN", "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"],
        "{:?}",
        a.env
    );
    assert!(listed(&a, "ZEPTOMAIL_API_KEY"));
}

/// A database port written into a URL is `undefined` when unset: it gets
/// the store's standard port as its default.
#[test]
fn a_database_port_without_a_default_gets_the_stores_standard_one() {
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node server.js"},"dependencies":{"fastify":"4","mongoose":"8"}}"#,
        ),
        (
            "server.js",
            "const fastify = require('fastify')();\nconst uri = `mongodb://${process.env.MONGODB_HOST}:${process.env.MONGODB_PORT}/app`;\nmongoose.connect(uri);\nconst cache = { port: process.env.DB_PORT };\nfastify.listen({ port: 3000, host: '0.0.0.0' });\n",
        ),
    ]);
    let var = |name: &str| a.env.iter().find(|v| v.name == name).unwrap();
    assert_eq!(var("MONGODB_PORT").default.as_deref(), Some("27017"));
    assert!(!var("MONGODB_PORT").required);
    // `DB_PORT` names no store: no port is guessed.
    assert_eq!(var("DB_PORT").default, None);
}

/// A Python file in a `templates` folder is code the app writes out for
/// something else (a bot it generates): its reads are not the app's.
#[test]
fn python_code_templates_are_not_the_apps_reads() {
    let a = run(&[
        ("requirements.txt", "fastapi\nuvicorn\n"),
        (
            "main.py",
            "import os\nfrom fastapi import FastAPI\nKEY = os.environ[\"OPENAI_API_KEY\"]\napp = FastAPI()\n",
        ),
        (
            "src/ai/templates/qa_bot_template.py",
            "import os\nBOT_TOKEN = os.environ[\"BOT_TOKEN\"]\n",
        ),
    ]);
    assert_eq!(required(&a), ["OPENAI_API_KEY"], "{:?}", a.env);
}

/// A committed `.env` with a section for the delivery pipeline: the names
/// the CI workflow fills from its secrets are not the app's to need.
#[test]
fn env_file_names_only_the_ci_workflow_uses_are_not_required() {
    let a = run(&[
        ("requirements.txt", "flask\n"),
        (
            "app.py",
            "import os\nfrom flask import Flask\napp = Flask(__name__)\nKEY = os.environ[\"API_KEY\"]\n",
        ),
        (
            ".env",
            "API_KEY=\n# Only for deployment\nDOCKER_USERNAME=\nVPS_PASSWORD=\n",
        ),
        (
            "docker-compose.yml",
            "services:\n  web:\n    build: .\n    env_file: .env\n    ports: ['5000:5000']\n",
        ),
        (
            ".github/workflows/prod.yml",
            "jobs:\n  deploy:\n    steps:\n      - run: echo ${{ secrets.DOCKER_USERNAME }} ${{ secrets.VPS_PASSWORD }} ${{ secrets.API_KEY }}\n",
        ),
    ]);
    let required = required(&a);
    assert!(required.contains(&"API_KEY"), "{required:?}");
    assert!(!required.contains(&"DOCKER_USERNAME"), "{required:?}");
    assert!(!required.contains(&"VPS_PASSWORD"), "{required:?}");
}
