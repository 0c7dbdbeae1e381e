//! Detector behaviour on small in-memory repositories: one fact or one
//! tricky case per test, so a failure names what broke.

use analysis::{Analysis, Requirements, Snapshot, analyse, parse_requirements};

fn run(files: &[(&str, &str)]) -> Analysis {
    run_with(files, &Requirements::default())
}

fn run_with(files: &[(&str, &str)], requirements: &Requirements) -> Analysis {
    let snapshot = Snapshot::from_texts(files.iter().copied());
    let analysis = analyse(&snapshot, requirements);
    assert_facts_have_evidence(&snapshot, &analysis);
    analysis
}

/// Every fact stated has evidence pointing at a file of the snapshot.
fn assert_facts_have_evidence(snapshot: &Snapshot, a: &Analysis) {
    let has = |fact: &str| a.evidence.iter().any(|e| e.fact == fact);
    for e in &a.evidence {
        // "." is the repository itself, for facts about what it lacks.
        assert!(
            e.file == "." || snapshot.get(&e.file).is_some(),
            "evidence for {} cites unknown file {:?}",
            e.fact,
            e.file
        );
    }
    let stated = [
        ("language", a.language.is_some()),
        ("framework", a.framework.is_some()),
        ("port", a.port.is_some()),
        ("port_env", a.port_env.is_some()),
        ("start_command", a.start_command.is_some()),
        ("health_path", a.health_path.is_some()),
        ("deny", a.deny_reason.is_some()),
        ("http", a.http),
        ("subdir", a.subdir != "."),
        ("bind", a.bind.loopback_only),
    ];
    for (fact, present) in stated {
        assert!(!present || has(fact), "no evidence for {fact}: {a:#?}");
    }
    for var in &a.env {
        assert!(
            has(&format!("env:{}", var.name)),
            "no evidence for env var {}",
            var.name
        );
    }
}

// ---------------------------------------------------------------- Python

#[test]
fn flask_app_run_without_host_is_loopback_with_a_fix() {
    let a = run(&[
        ("requirements.txt", "flask==3.0\n"),
        (
            "app.py",
            "from flask import Flask\napp = Flask(__name__)\n\nif __name__ == '__main__':\n    app.run(debug=True)\n",
        ),
    ]);
    assert_eq!(
        (a.language.as_deref(), a.framework.as_deref()),
        (Some("python"), Some("flask"))
    );
    assert_eq!(a.port, Some(5000));
    assert!(a.bind.loopback_only);
    assert!(
        a.bind
            .fix
            .as_deref()
            .is_some_and(|f| f.contains("0.0.0.0") && f.contains("app:app")),
        "{:?}",
        a.bind.fix
    );
    assert_eq!(a.start_command.as_deref(), Some("python app.py"));
}

#[test]
fn commented_out_run_calls_do_not_count() {
    let a = run(&[
        ("requirements.txt", "flask\ngunicorn\n"),
        (
            "app.py",
            "from flask import Flask\napp = Flask(__name__)\n# app.run(port=1234)\n",
        ),
    ]);
    assert_eq!(a.port, Some(5000));
    assert_eq!(
        a.start_command.as_deref(),
        Some("gunicorn --bind 0.0.0.0:5000 app:app")
    );
    assert!(!a.bind.loopback_only);
}

#[test]
fn fastapi_without_a_run_call_gets_a_uvicorn_command() {
    let a = run(&[
        (
            "pyproject.toml",
            "[project]\nname = \"x\"\ndependencies = [\"fastapi\", \"uvicorn\"]\n",
        ),
        (
            "src/api/main.py",
            "from fastapi import FastAPI\n\nservice = FastAPI()\n\n@service.get(\"/healthz\")\ndef ok():\n    return {}\n",
        ),
    ]);
    assert_eq!(a.framework.as_deref(), Some("fastapi"));
    assert_eq!(a.port, Some(8000));
    assert_eq!(
        a.start_command.as_deref(),
        Some("uvicorn api.main:service --host 0.0.0.0 --port 8000")
    );
    assert_eq!(a.health_path.as_deref(), Some("/healthz"));
}

/// A factory is started as one shell word (`sh -c` reads `(` as its own
/// syntax), as uvicorn takes it (`--factory`), or through the app the
/// module already made with it.
#[test]
fn an_app_factory_is_started_as_its_server_takes_it() {
    let flask = run(&[
        ("requirements.txt", "Flask\n"),
        (
            "flaskr/__init__.py",
            "from flask import Flask\n\ndef create_app():\n    app = Flask(__name__)\n    return app\n",
        ),
    ]);
    assert_eq!(
        flask.start_command.as_deref(),
        Some("FLASK_APP='flaskr:create_app()' flask run --host 0.0.0.0 --port 5000")
    );
    let factory_only = run(&[
        ("requirements.txt", "fastapi\nuvicorn\n"),
        (
            "app/main.py",
            "from fastapi import FastAPI\n\ndef create_app():\n    api = FastAPI()\n    return api\n",
        ),
    ]);
    assert_eq!(
        factory_only.start_command.as_deref(),
        Some("uvicorn app.main:create_app --factory --host 0.0.0.0 --port 8000")
    );
    let made = run(&[
        ("requirements.txt", "fastapi\nuvicorn\n"),
        (
            "app/main.py",
            "from fastapi import FastAPI\n\ndef create_app():\n    api = FastAPI()\n    return api\n\napp = create_app()\n",
        ),
    ]);
    assert_eq!(
        made.start_command.as_deref(),
        Some("uvicorn app.main:app --host 0.0.0.0 --port 8000")
    );
}

/// `src/main.py` with relative imports is the module `src.main`.
#[test]
fn a_src_module_with_relative_imports_keeps_its_package() {
    let a = run(&[
        ("requirements.txt", "fastapi\nuvicorn\n"),
        (
            "src/main.py",
            "from fastapi import FastAPI\nfrom .routers import items\n\napp = FastAPI()\n",
        ),
        ("src/routers/items.py", "x = 1\n"),
    ]);
    assert_eq!(
        a.start_command.as_deref(),
        Some("uvicorn src.main:app --host 0.0.0.0 --port 8000")
    );
}

/// `app.listen(port)` with `const port = config.apiPort` from the app's
/// own config module: the port that module sets.
#[test]
fn a_port_set_in_an_imported_config_object_is_read() {
    let a = run(&[
        (
            "package.json",
            r#"{"dependencies":{"express":"^4.18.0"},"scripts":{"start":"node dist/index.js"}}"#,
        ),
        (
            "src/index.ts",
            "import { app } from \"./app\";\nimport { config } from \"./config\";\n\nconst port = config.apiPort;\n\napp.listen(port, () => {\n    console.log(`listening on ${port}`);\n});\n",
        ),
        (
            "src/app.ts",
            "import express from \"express\";\nexport const app = express();\n",
        ),
        (
            "src/config.ts",
            "export const config = {\n    apiPort: 3001,\n    dbUri: process.env.MONGODB_URI,\n};\n",
        ),
    ]);
    assert_eq!(a.port, Some(3001));
    let required = run(&[
        ("package.json", r#"{"dependencies":{"express":"^4.18.0"}}"#),
        (
            "index.js",
            "const express = require('express');\nconst settings = require('./settings');\nexpress().listen(settings.port);\n",
        ),
        (
            "settings.js",
            "module.exports = {\n  port: process.env.PORT || 4100,\n};\n",
        ),
    ]);
    assert_eq!(required.port, Some(4100));
}

#[test]
fn procfile_gunicorn_reads_the_port_from_the_env() {
    let a = run(&[
        ("requirements.txt", "Django\ngunicorn\n"),
        (
            "manage.py",
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings')\n",
        ),
        ("shop/settings.py", "INSTALLED_APPS = []\n"),
        (
            "Procfile",
            "web: gunicorn shop.wsgi --bind 0.0.0.0:${PORT:-9000}\n",
        ),
    ]);
    assert_eq!(a.framework.as_deref(), Some("django"));
    assert_eq!(
        a.start_command.as_deref(),
        Some("gunicorn shop.wsgi --bind 0.0.0.0:${PORT:-9000}")
    );
    assert_eq!((a.port, a.port_env.as_deref()), (Some(9000), Some("PORT")));
    assert!(!a.bind.loopback_only);
}

#[test]
fn uvicorn_in_a_dockerfile_without_host_is_loopback() {
    let a = run(&[
        ("requirements.txt", "fastapi\nuvicorn\n"),
        ("main.py", "from fastapi import FastAPI\napp = FastAPI()\n"),
        (
            "Dockerfile",
            "FROM python:3.12\nCOPY . .\nCMD [\"uvicorn\", \"main:app\", \"--port\", \"80\"]\n",
        ),
    ]);
    assert!(a.dockerized);
    assert_eq!(a.port, Some(80));
    assert!(a.bind.loopback_only);
    assert!(
        a.bind
            .fix
            .as_deref()
            .is_some_and(|f| f.contains("--host 0.0.0.0"))
    );
}

#[test]
fn streamlit_port_from_its_config() {
    let a = run(&[
        ("requirements.txt", "streamlit\n"),
        ("dashboard.py", "import streamlit as st\nst.title('x')\n"),
        (".streamlit/config.toml", "[server]\nport = 8600\n"),
    ]);
    assert_eq!(a.framework.as_deref(), Some("streamlit"));
    assert_eq!(a.port, Some(8600));
    assert_eq!(
        a.start_command.as_deref(),
        Some("streamlit run dashboard.py --server.port 8600 --server.address 0.0.0.0")
    );
}

#[test]
fn gunicorn_config_file_sets_the_address() {
    let a = run(&[
        ("requirements.txt", "Flask\ngunicorn\n"),
        (
            "wsgi.py",
            "from app import create_app\napp = create_app()\n",
        ),
        (
            "app/__init__.py",
            "from flask import Flask\ndef create_app():\n    return Flask(__name__)\n",
        ),
        ("gunicorn.conf.py", "bind = \"0.0.0.0:8050\"\n"),
        ("Procfile", "web: gunicorn -c gunicorn.conf.py wsgi:app\n"),
    ]);
    assert_eq!(a.port, Some(8050));
    assert_eq!(a.bind.host.as_deref(), Some("0.0.0.0"));
    assert!(!a.bind.loopback_only);
}

#[test]
fn a_dockerfile_start_script_is_read_for_the_server_command() {
    let a = run(&[
        ("requirements/base.txt", "django\n"),
        ("requirements/production.txt", "-r base.txt\ngunicorn\n"),
        (
            "manage.py",
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n",
        ),
        (
            "config/settings.py",
            "INSTALLED_APPS = []\nSECRET_KEY = env('DJANGO_SECRET_KEY')\n",
        ),
        (
            "compose/production/django/Dockerfile",
            "FROM python\nCMD [\"/start\"]\n",
        ),
        (
            "compose/production/django/start",
            "#!/bin/bash\nset -e\nexec gunicorn config.wsgi --bind 0.0.0.0:5000\n",
        ),
        (
            "compose/local/django/start",
            "exec python manage.py runserver 0.0.0.0:8000\n",
        ),
        (
            "docker-compose.production.yml",
            "services:\n  django:\n    build:\n      context: .\n      dockerfile: ./compose/production/django/Dockerfile\n",
        ),
    ]);
    assert!(a.dockerized, "the compose file's dockerfile path names it");
    assert_eq!(a.start_command.as_deref(), Some("/start"));
    assert_eq!(a.port, Some(5000));
    assert_eq!(a.required_env, ["DJANGO_SECRET_KEY"]);
}

#[test]
fn fastapi_cli_and_pydantic_settings() {
    let a = run(&[
        (
            "pyproject.toml",
            "[project]\nname = \"app\"\ndependencies = [\"fastapi[standard]\"]\n",
        ),
        (
            "app/main.py",
            "from fastapi import FastAPI\napp = FastAPI()\n",
        ),
        (
            "app/config.py",
            "from pydantic_settings import BaseSettings\n\nclass Settings(BaseSettings):\n    database_url: str\n    debug: bool = False\n",
        ),
        (
            "Dockerfile",
            "FROM python\nCMD [\"fastapi\", \"run\", \"app/main.py\", \"--port\", \"80\"]\n",
        ),
    ]);
    assert_eq!(a.port, Some(80));
    assert!(
        !a.bind.loopback_only,
        "fastapi run listens on all interfaces"
    );
    assert_eq!(a.required_env, ["DATABASE_URL"]);
}

// ---------------------------------------------------------------- Node

#[test]
fn dockerfile_env_overrides_the_code_default_port() {
    let a = run(&[
        (
            "package.json",
            r#"{"name":"x","scripts":{"start":"node server.js"},"dependencies":{"express":"^4"}}"#,
        ),
        (
            "server.js",
            "const express = require('express');\nconst app = express();\nconst port = process.env.PORT || 3000;\napp.listen(port);\n",
        ),
        (
            "Dockerfile",
            "FROM node:20\nENV PORT=8080\nEXPOSE 8080\nCMD [\"node\", \"server.js\"]\n",
        ),
    ]);
    assert_eq!((a.port, a.port_env.as_deref()), (Some(8080), Some("PORT")));
    assert_eq!(a.start_command.as_deref(), Some("node server.js"));
    assert!(a.notes.is_empty(), "{:?}", a.notes);
}

#[test]
fn next_start_port_flag_is_read_through_npm_start() {
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"build":"next build","start":"next start -p 4000"},"dependencies":{"next":"14","react":"18"}}"#,
        ),
        (
            "app/page.tsx",
            "export default function Page() { return null }\n",
        ),
    ]);
    assert_eq!(a.framework.as_deref(), Some("nextjs"));
    assert_eq!(a.language.as_deref(), Some("typescript"));
    assert_eq!(a.port, Some(4000));
    assert_eq!(a.start_command.as_deref(), Some("npm start"));
    assert_eq!(a.build_command.as_deref(), Some("npm run build"));
}

#[test]
fn vite_dev_server_in_a_dockerfile_listens_on_localhost() {
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"dev":"vite","build":"vite build"},"devDependencies":{"vite":"5"}}"#,
        ),
        ("index.html", "<div id=app></div>"),
        (
            "Dockerfile",
            "FROM node:20\nCOPY . .\nCMD [\"npm\", \"run\", \"dev\"]\n",
        ),
    ]);
    assert_eq!(a.framework.as_deref(), Some("vite"));
    assert_eq!(a.port, Some(5173));
    assert!(a.bind.loopback_only);
    assert!(
        a.bind
            .fix
            .as_deref()
            .is_some_and(|f| f.contains("--host 0.0.0.0"))
    );
}

#[test]
fn a_vite_build_is_a_static_site_on_port_80() {
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"build":"vite build"},"devDependencies":{"vite":"5"}}"#,
        ),
        ("index.html", "<div id=app></div>"),
    ]);
    assert!(a.http);
    assert_eq!((a.framework.as_deref(), a.port), (Some("vite"), Some(80)));
    assert_eq!(a.build_command.as_deref(), Some("npm run build"));
}

#[test]
fn fastify_without_host_listens_on_localhost() {
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node index.js"},"dependencies":{"fastify":"4"}}"#,
        ),
        (
            "index.js",
            "const fastify = require('fastify')();\nfastify.listen({ port: 3001 });\n",
        ),
    ]);
    assert_eq!(a.framework.as_deref(), Some("fastify"));
    assert_eq!(a.port, Some(3001));
    assert!(a.bind.loopback_only);
}

#[test]
fn listen_calls_in_tests_are_ignored() {
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node index.js"},"dependencies":{"koa":"2"}}"#,
        ),
        (
            "index.js",
            "const Koa = require('koa');\nnew Koa().listen(4100);\n",
        ),
        ("test/server.test.js", "app.listen(9999, '127.0.0.1');\n"),
    ]);
    assert_eq!(a.port, Some(4100));
    assert!(!a.bind.loopback_only);
}

#[test]
fn express_generator_bin_www() {
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node ./bin/www"},"dependencies":{"express":"4"}}"#,
        ),
        (
            "app.js",
            "var express = require('express');\nvar app = express();\nmodule.exports = app;\n",
        ),
        (
            "bin/www",
            "var port = normalizePort(process.env.PORT || '3005');\nserver.listen(port);\n",
        ),
    ]);
    assert_eq!((a.port, a.port_env.as_deref()), (Some(3005), Some("PORT")));
}

#[test]
fn a_port_imported_by_name_from_a_config_module_is_read() {
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node dist/index.js"},"dependencies":{"koa":"2"}}"#,
        ),
        (
            "src/config.js",
            "export const port = 8080;\nexport const db = 'x';\n",
        ),
        (
            "src/index.js",
            "import Koa from 'koa';\nimport { port } from './config';\nconst app = new Koa();\napp.listen(port);\n",
        ),
    ]);
    assert_eq!(a.port, Some(8080));
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node server.js"},"dependencies":{"express":"4"}}"#,
        ),
        ("config.js", "exports.PORT = process.env.PORT || 4100;\n"),
        (
            "server.js",
            "const express = require('express');\nconst { PORT } = require('./config');\nexpress().listen(PORT);\n",
        ),
    ]);
    assert_eq!((a.port, a.port_env.as_deref()), (Some(4100), Some("PORT")));
}

/// An Express app with `app.js` and one router file, for health-route tests.
fn express_with_router(app: &str, router_path: &str, router: &str) -> Analysis {
    run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node app.js"},"dependencies":{"express":"4"}}"#,
        ),
        ("app.js", app),
        (router_path, router),
    ])
}

#[test]
fn a_health_route_on_an_express_router_takes_the_prefix_it_is_mounted_under() {
    let router = "const express = require('express');\nconst router = express.Router();\nrouter.get('/health', (req, res) => res.send('ok'));\nmodule.exports = router;\n";
    // Required where it is mounted.
    let a = express_with_router(
        "const express = require('express');\nconst app = express();\napp.use(express.json());\napp.use('/api/v1', require('./routes/status'));\napp.listen(3000);\n",
        "routes/status.js",
        router,
    );
    assert_eq!(a.health_path.as_deref(), Some("/api/v1/health"));
    // Imported by name, through an index file that mounts it again.
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node dist/server.js"},"dependencies":{"express":"4"}}"#,
        ),
        (
            "src/server.ts",
            "import express from 'express';\nimport routes from './routes';\nconst app = express();\napp.use('/api', routes);\napp.listen(3000);\n",
        ),
        (
            "src/routes/index.ts",
            "import { Router } from 'express';\nimport healthRouter from './health.js';\nconst router = Router();\nrouter.use('/system', healthRouter);\nexport default router;\n",
        ),
        (
            "src/routes/health.ts",
            "import { Router } from 'express';\nconst healthRouter = Router();\nhealthRouter.get('/healthz', (_req, res) => res.json({ ok: true }));\nexport default healthRouter;\n",
        ),
    ]);
    assert_eq!(a.health_path.as_deref(), Some("/api/system/healthz"));
    // Mounted at the root: the route's own path.
    let a = express_with_router(
        "const express = require('express');\nconst app = express();\nconst router = require('./router');\napp.use(router);\napp.listen(3000);\n",
        "router.js",
        router,
    );
    assert_eq!(a.health_path.as_deref(), Some("/health"));
    // Under a prefix the analysis cannot read: none, so the check probes `/`.
    let a = express_with_router(
        "const express = require('express');\nconst app = express();\napp.use(`${process.env.BASE}/api`, require('./routes/status'));\napp.listen(3000);\n",
        "routes/status.js",
        router,
    );
    assert_eq!(a.health_path, None);
    // A route on the app itself keeps its path, whatever routers are mounted.
    let a = express_with_router(
        "const express = require('express');\nconst app = express();\napp.get('/healthz', (req, res) => res.send('ok'));\napp.use('/api', require('./routes/users'));\napp.listen(3000);\n",
        "routes/users.js",
        "const router = require('express').Router();\nrouter.get('/', (req, res) => res.json([]));\nmodule.exports = router;\n",
    );
    assert_eq!(a.health_path.as_deref(), Some("/healthz"));
}

#[test]
fn a_koa_router_with_its_own_prefix_serves_under_it() {
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node index.js"},"dependencies":{"koa":"2","@koa/router":"12"}}"#,
        ),
        (
            "index.js",
            "const Koa = require('koa');\nconst Router = require('@koa/router');\nconst app = new Koa();\nconst router = new Router({ prefix: '/api' });\nrouter.get('/ping', ctx => { ctx.body = 'pong'; });\napp.use(router.routes());\napp.listen(3000);\n",
        ),
    ]);
    assert_eq!(a.health_path.as_deref(), Some("/api/ping"));
    // A chain begun on the line before, in a router file the app requires.
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node src/app.js"},"dependencies":{"koa":"2","koa-router":"12"}}"#,
        ),
        (
            "src/app.js",
            "const Koa = require('koa');\nconst router = require('./routes');\nconst app = new Koa();\napp.use(router.routes());\napp.listen(3000);\n",
        ),
        (
            "src/routes/index.js",
            "const Router = require('koa-router');\nconst router = new Router({ prefix: '/api' });\n\nrouter\n    .get('/ping', ctx => ctx.body = 'pong')\n    .get('/:id/comments', list);\n\nmodule.exports = router;\n",
        ),
    ]);
    assert_eq!(a.health_path.as_deref(), Some("/api/ping"));
}

#[test]
fn a_fastify_plugin_registered_under_a_prefix_gives_no_health_path() {
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node src/server.js"},"dependencies":{"fastify":"4"}}"#,
        ),
        (
            "src/server.js",
            "import Fastify from 'fastify';\nimport api from './routes/index.js';\nconst fastify = Fastify();\nfastify.register(api, { prefix: '/api' });\nfastify.listen({ port: 3000, host: '0.0.0.0' });\n",
        ),
        (
            "src/routes/status.js",
            "export default async function status(fastify) {\n  fastify.route({\n    method: 'GET',\n    path: '/status',\n    handler: async () => ({ ok: true }),\n  });\n}\n",
        ),
    ]);
    assert_eq!(a.health_path, None);
}

/// A Nest app with one health controller and `main.ts`.
fn nest_app(main: &str, controller: &str) -> Analysis {
    run(&[
        (
            "package.json",
            r#"{"scripts":{"build":"nest build","start:prod":"node dist/main"},"dependencies":{"@nestjs/core":"10","@nestjs/common":"10","@nestjs/terminus":"10"}}"#,
        ),
        ("src/main.ts", main),
        ("src/health/health.controller.ts", controller),
    ])
}

#[test]
fn a_nest_health_route_joins_the_global_prefix_and_the_controller_path() {
    let terminus = "import { Controller, Get } from '@nestjs/common';\nimport { HealthCheck } from '@nestjs/terminus';\n\n@Controller('health')\nexport class HealthController {\n  @Get()\n  @HealthCheck()\n  check() {\n    return this.health.check([]);\n  }\n}\n";
    let main = |prefix: &str| {
        format!(
            "import {{ NestFactory }} from '@nestjs/core';\nasync function bootstrap() {{\n  const app = await NestFactory.create(AppModule);\n  {prefix}\n  await app.listen(3000);\n}}\nbootstrap();\n"
        )
    };
    assert_eq!(
        nest_app(&main(""), terminus).health_path.as_deref(),
        Some("/health")
    );
    assert_eq!(
        nest_app(&main("app.setGlobalPrefix('api');"), terminus)
            .health_path
            .as_deref(),
        Some("/api/health")
    );
    // Nx's generated main.ts names the prefix through a constant.
    assert_eq!(
        nest_app(
            &main("const globalPrefix = 'api/v2';\n  app.setGlobalPrefix(globalPrefix);"),
            terminus
        )
        .health_path
        .as_deref(),
        Some("/api/v2/health")
    );
    // Excluded from the prefix: served at its own path.
    assert_eq!(
        nest_app(
            &main("app.setGlobalPrefix('api', { exclude: ['health'] });"),
            terminus
        )
        .health_path
        .as_deref(),
        Some("/health")
    );
    // A prefix from configuration, or versions on every route: unknown.
    assert_eq!(
        nest_app(
            &main("app.setGlobalPrefix(config.get('PREFIX'));"),
            terminus
        )
        .health_path,
        None
    );
    assert_eq!(
        nest_app(
            &main("app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });"),
            terminus
        )
        .health_path,
        None
    );
    // A route of a health controller.
    let check = "@Controller('health')\nexport class HealthController {\n  @Get('check')\n  check() { return 'ok'; }\n}\n";
    assert_eq!(
        nest_app(&main("app.setGlobalPrefix('api');"), check)
            .health_path
            .as_deref(),
        Some("/api/health/check")
    );
    // A route named for health under a controller of another name.
    let under_app = "@Controller('app')\nexport class AppController {\n  @Get('status')\n  status() { return 'ok'; }\n}\n";
    assert_eq!(
        nest_app(&main("app.setGlobalPrefix('api');"), under_app)
            .health_path
            .as_deref(),
        Some("/api/app/status")
    );
}

// ---------------------------------------------------------------- other languages

#[test]
fn a_go_router_on_net_http_names_the_framework() {
    let a = run(&[
        (
            "go.mod",
            "module x\n\ngo 1.22\n\nrequire github.com/go-chi/chi/v5 v5.0.11\n",
        ),
        (
            "main.go",
            "package main\n\nimport (\n\t\"net/http\"\n\n\t\"github.com/go-chi/chi/v5\"\n)\n\nfunc main() {\n\tr := chi.NewRouter()\n\thttp.ListenAndServe(\":3333\", r)\n}\n",
        ),
    ]);
    assert_eq!(a.framework.as_deref(), Some("chi"));
    assert_eq!(a.port, Some(3333));
}

#[test]
fn go_port_from_getenv_with_fallback() {
    let a = run(&[
        ("go.mod", "module x\n\ngo 1.22\n"),
        (
            "cmd/server/main.go",
            "package main\n\nfunc main() {\n\taddr := os.Getenv(\"LISTEN_PORT\")\n\tif addr == \"\" {\n\t\taddr = \"9090\"\n\t}\n\thttp.ListenAndServe(\":\"+addr, nil)\n}\n",
        ),
    ]);
    assert_eq!(a.framework.as_deref(), Some("net-http"));
    assert_eq!(
        (a.port, a.port_env.as_deref()),
        (Some(9090), Some("LISTEN_PORT"))
    );
    assert_eq!(
        a.build_command.as_deref(),
        Some("go build -o app ./cmd/server")
    );
    assert!(a.required_env.is_empty(), "{:?}", a.required_env);
}

#[test]
fn go_port_from_a_flag_default() {
    let a = run(&[
        ("go.mod", "module x\n"),
        (
            "cmd/web/main.go",
            "package main\n\nfunc main() {\n\taddr := flag.String(\"addr\", \":4000\", \"HTTP address\")\n\tsrv := &http.Server{Addr: *addr}\n\tsrv.ListenAndServe()\n}\n",
        ),
    ]);
    assert_eq!(a.port, Some(4000));
}

#[test]
fn go_port_from_an_address_formatted_in_the_server_struct() {
    let a = run(&[
        ("go.mod", "module x\n"),
        (
            "main.go",
            "package main\n\nfunc getEnvInt(k string, d int) int {\n\tif v, ok := os.LookupEnv(k); ok {\n\t\tif n, err := strconv.Atoi(v); err == nil {\n\t\t\treturn n\n\t\t}\n\t}\n\treturn d\n}\n\nfunc main() {\n\tsrv := &http.Server{Addr: fmt.Sprintf(\":%d\", getEnvInt(\"APP_PORT\", 8500)), ReadTimeout: 5 * time.Second}\n\tsrv.ListenAndServe()\n}\n",
        ),
    ]);
    assert_eq!(
        (a.port, a.port_env.as_deref()),
        (Some(8500), Some("APP_PORT"))
    );
}

/// A gin router served by net/http's own server, its address formatted from
/// a config struct whose literal, in another package, reads the variable.
#[test]
fn go_port_from_a_config_structs_field_set_in_another_file() {
    let a = run(&[
        (
            "go.mod",
            "module x\n\nrequire github.com/gin-gonic/gin v1.10.0\n",
        ),
        (
            "cmd/api/main.go",
            "package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n\n\t\"github.com/gin-gonic/gin\"\n\t\"x/internal/config\"\n)\n\nfunc main() {\n\tenv := config.Load()\n\tr := gin.New()\n\tserverAddr := fmt.Sprintf(\":%d\", env.AppPort)\n\tserver := &http.Server{\n\t\tAddr:    serverAddr,\n\t\tHandler: r,\n\t}\n\tserver.ListenAndServe()\n}\n",
        ),
        (
            "internal/config/env.go",
            "package config\n\ntype Env struct {\n\tAppPort int\n}\n\nfunc Load() Env {\n\treturn Env{\n\t\tAppPort: getEnvInt(\"APP_PORT\", 8500),\n\t}\n}\n",
        ),
    ]);
    assert_eq!(a.framework.as_deref(), Some("gin"));
    assert_eq!(
        (a.port, a.port_env.as_deref()),
        (Some(8500), Some("APP_PORT"))
    );
}

#[test]
fn rocket_without_config_listens_on_loopback() {
    let a = run(&[
        (
            "Cargo.toml",
            "[package]\nname = \"svc\"\n\n[dependencies]\nrocket = \"0.5\"\n",
        ),
        (
            "src/main.rs",
            "#[launch]\nfn rocket() -> _ { rocket::build() }\n",
        ),
    ]);
    assert_eq!(
        (a.framework.as_deref(), a.port),
        (Some("rocket"), Some(8000))
    );
    assert!(a.bind.loopback_only);
    assert_eq!(a.bind.fix.as_deref(), Some("set ROCKET_ADDRESS=0.0.0.0"));
    assert_eq!(a.start_command.as_deref(), Some("./target/release/svc"));
}

#[test]
fn spring_yaml_port_placeholder_and_actuator_health() {
    let a = run(&[
        (
            "pom.xml",
            "<project><artifactId>spring-boot-starter-web</artifactId><artifactId>spring-boot-starter-actuator</artifactId></project>",
        ),
        (
            "src/main/java/App.java",
            "@SpringBootApplication public class App { public static void main(String[] a) {} }",
        ),
        (
            "src/main/resources/application.yml",
            "server:\n  port: ${SERVER_PORT:9090}\n",
        ),
        ("src/test/resources/application.yml", "server:\n  port: 1\n"),
    ]);
    assert_eq!(
        (a.language.as_deref(), a.framework.as_deref()),
        (Some("java"), Some("spring-boot"))
    );
    assert_eq!(
        (a.port, a.port_env.as_deref()),
        (Some(9090), Some("SERVER_PORT"))
    );
    assert_eq!(a.health_path.as_deref(), Some("/actuator/health"));
}

#[test]
fn aspnet_listens_on_kestrels_default_or_its_official_images_port_and_localhost_urls_are_loopback()
{
    let project = "<Project Sdk=\"Microsoft.NET.Sdk.Web\"><PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup></Project>";
    let program = "var app = WebApplication.Create();\napp.Run();\n";
    let a = run(&[("Api.csproj", project), ("Program.cs", program)]);
    assert_eq!(
        (a.language.as_deref(), a.port),
        (Some("csharp"), Some(5000))
    );
    assert_eq!(a.start_command.as_deref(), Some("dotnet out/Api.dll"));
    // The official images set Kestrel's port: 8080 from .NET 8, 80 before,
    // also when the final stage is built from an earlier one.
    for (dockerfile, port) in [
        (
            "FROM mcr.microsoft.com/dotnet/aspnet:8.0 AS base\nWORKDIR /app\n\nFROM mcr.microsoft.com/dotnet/sdk:8.0 AS build\nRUN dotnet publish -o /out\n\nFROM base AS final\nCOPY --from=build /out .\nENTRYPOINT [\"dotnet\", \"Api.dll\"]\n",
            8080,
        ),
        (
            "FROM mcr.microsoft.com/dotnet/aspnet:6.0\nCOPY out .\nENTRYPOINT [\"dotnet\", \"Api.dll\"]\n",
            80,
        ),
    ] {
        let a = run(&[
            ("Api.csproj", project),
            ("Program.cs", program),
            ("Dockerfile", dockerfile),
        ]);
        assert_eq!(a.port, Some(port), "{dockerfile}");
    }
    let a = run(&[
        ("Api.csproj", project),
        (
            "Program.cs",
            "var app = WebApplication.Create();\napp.Run(\"http://localhost:5005\");\n",
        ),
    ]);
    assert_eq!(a.port, Some(5005));
    assert!(a.bind.loopback_only);
}

#[test]
fn rails_port_from_puma_config() {
    let a = run(&[
        (
            "Gemfile",
            "source 'https://rubygems.org'\ngem \"rails\", \"~> 7.1\"\n",
        ),
        (
            "config/application.rb",
            "module Shop\n  class Application < Rails::Application\n  end\nend\n",
        ),
        ("config/puma.rb", "port ENV.fetch(\"PORT\") { 3100 }\n"),
        ("bin/rails", "#!/usr/bin/env ruby\n"),
    ]);
    assert_eq!(a.framework.as_deref(), Some("rails"));
    assert_eq!((a.port, a.port_env.as_deref()), (Some(3100), Some("PORT")));
    assert_eq!(
        a.start_command.as_deref(),
        Some("bin/rails server -b 0.0.0.0 -p 3100")
    );
    assert!(!a.notes.iter().any(|n| n.contains("force_ssl")));
    let a = run(&[
        (
            "Gemfile",
            "source 'https://rubygems.org'\ngem \"rails\", \"~> 8.0\"\n",
        ),
        (
            "config/application.rb",
            "module Shop\n  class Application < Rails::Application\n  end\nend\n",
        ),
        (
            "config/environments/production.rb",
            "Rails.application.configure do\n  config.assume_ssl = true\n  config.force_ssl = true\nend\n",
        ),
        ("bin/rails", "#!/usr/bin/env ruby\n"),
    ]);
    assert!(
        a.notes
            .iter()
            .any(|n| n.contains("config.force_ssl = true")),
        "{:?}",
        a.notes
    );
}

#[test]
fn a_sinatra_app_served_by_puma_listens_where_puma_rb_says() {
    let a = run(&[
        (
            "Gemfile",
            "source 'https://rubygems.org'\ngem 'sinatra'\ngem 'puma'\n",
        ),
        ("config.ru", "require './app'\nrun App\n"),
        (
            "app.rb",
            "require 'sinatra/base'\nclass App < Sinatra::Base\n  get('/') { 'ok' }\nend\n",
        ),
        (
            "config/puma.rb",
            "bind_host = ENV.fetch('HOST', '0.0.0.0')\nport ENV.fetch \"RACK_PORT\", 4567\n",
        ),
        (
            "Procfile",
            "web: bundle exec puma --config ./config/puma.rb\n",
        ),
    ]);
    assert_eq!(a.framework.as_deref(), Some("sinatra"));
    assert_eq!(a.port, Some(4567));
}

#[test]
fn a_modular_sinatra_app_named_from_the_top_level_is_sinatra() {
    let a = run(&[
        (
            "Gemfile",
            "source 'https://rubygems.org'\ngem 'sinatra', require: 'sinatra/base'\ngem 'puma'\n",
        ),
        (
            "config.ru",
            "require 'bundler'\nBundler.require\nclass App < ::Sinatra::Base\n  get('/') { 'ok' }\nend\nrun App\n",
        ),
    ]);
    assert_eq!(a.framework.as_deref(), Some("sinatra"));
}

#[test]
fn plain_php_and_static_html() {
    let a = run(&[("index.php", "<?php echo 'hi';"), ("lib.php", "<?php")]);
    assert_eq!((a.framework.as_deref(), a.port), (Some("php"), Some(80)));
    // A site kept under src/, its pages beside it, served from there.
    let a = run(&[
        (
            "composer.json",
            r#"{"require": {"vlucas/phpdotenv": "^5.6"}}"#,
        ),
        ("src/index.php", "<?php require 'views/home.php';"),
        ("src/views/home.php", "<h1>hi</h1>"),
    ]);
    assert_eq!((a.http, a.framework.as_deref()), (true, Some("php")));
    assert_eq!(a.start_command.as_deref(), Some("php -S 0.0.0.0:80 -t src"));
    let a = run(&[("index.html", "<html></html>"), ("style.css", "")]);
    assert_eq!(
        (
            a.language.as_deref(),
            a.runtime(),
            a.framework.as_deref(),
            a.port
        ),
        (Some("html"), "static", Some("static"), Some(80))
    );
}

#[test]
fn deno_and_bun_defaults() {
    let a = run(&[("main.ts", "Deno.serve((_req) => new Response(\"hi\"));\n")]);
    assert_eq!(
        (a.language.as_deref(), a.runtime(), a.port),
        (Some("typescript"), "deno", Some(8000))
    );
    let a = run(&[
        ("package.json", "{}"),
        ("bunfig.toml", ""),
        (
            "index.ts",
            "Bun.serve({ fetch() { return new Response('x') } });\n",
        ),
    ]);
    assert_eq!(
        (a.language.as_deref(), a.runtime(), a.port),
        (Some("typescript"), "bun", Some(3000))
    );
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node server.js"},"dependencies":{"express":"^4"}}"#,
        ),
        (
            "server.js",
            "const app = require('express')();\napp.listen(3000);\n",
        ),
    ]);
    assert_eq!(
        (a.language.as_deref(), a.runtime()),
        (Some("javascript"), "node")
    );
}

#[test]
fn docker_files_are_listed_with_their_ports() {
    let a = run(&[
        ("go.mod", "module x\n"),
        (
            "main.go",
            "package main\nfunc main() { http.ListenAndServe(\":3000\", nil) }\n",
        ),
        (
            "Dockerfile",
            "FROM golang AS build\nEXPOSE 9999\nFROM alpine\nEXPOSE 3000/tcp\nCMD [\"/app\"]\n",
        ),
        (
            "deploy/compose.yaml",
            "services:\n  api:\n    build: ..\n    ports:\n      - \"127.0.0.1:8080:3000\"\n",
        ),
        (
            ".devcontainer/Dockerfile",
            "FROM mcr.microsoft.com/devcontainers/go\n",
        ),
    ]);
    assert!(a.dockerized);
    assert_eq!(a.docker_files, ["Dockerfile", "deploy/compose.yaml"]);
    let ports: Vec<(&str, &str, Vec<u16>, Vec<u16>)> = a
        .docker
        .iter()
        .map(|d| {
            (
                d.path.as_str(),
                d.kind.as_str(),
                d.ports.clone(),
                d.published.clone(),
            )
        })
        .collect();
    assert_eq!(
        ports,
        [
            ("Dockerfile", "dockerfile", vec![3000], vec![]),
            ("deploy/compose.yaml", "compose", vec![3000], vec![8080])
        ]
    );
    assert_ne!(a.port, Some(1080), "the helper's port is not the app's");
}

// ---------------------------------------------------------------- not servers

fn denied(files: &[(&str, &str)]) -> String {
    let a = run(files);
    assert!(!a.http, "expected a denial: {a:#?}");
    a.deny_reason.expect("a reason")
}

#[test]
fn command_line_tools_are_denied_with_where_they_start() {
    let reason = denied(&[
        (
            "pyproject.toml",
            "[project]\nname = \"t\"\ndependencies = [\"typer\"]\n",
        ),
        ("t/cli.py", "import typer\n\napp = typer.Typer()\n"),
    ]);
    assert!(
        reason.contains("command-line tool") && reason.contains("t/cli.py:3"),
        "{reason}"
    );
    let reason = denied(&[
        (
            "Cargo.toml",
            "[package]\nname = \"x\"\n[dependencies]\nclap = \"4\"\n",
        ),
        ("src/main.rs", "fn main() {}"),
    ]);
    assert!(reason.contains("command-line tool"), "{reason}");
}

#[test]
fn libraries_are_denied() {
    let reason = denied(&[
        ("Cargo.toml", "[package]\nname = \"x\"\n"),
        ("src/lib.rs", "pub fn f() {}"),
    ]);
    assert!(reason.contains("library"), "{reason}");
    let reason = denied(&[("go.mod", "module x\n"), ("x.go", "package x\n")]);
    assert!(reason.contains("library"), "{reason}");
    let reason = denied(&[
        ("package.json", r#"{"name":"lib","main":"index.js"}"#),
        ("index.js", "module.exports = 1;"),
    ]);
    assert!(reason.contains("library"), "{reason}");
}

#[test]
fn desktop_and_mobile_apps_are_denied() {
    let reason = denied(&[(
        "main.py",
        "import tkinter as tk\nroot = tk.Tk()\nroot.mainloop()\n",
    )]);
    assert!(reason.contains("desktop"), "{reason}");
    let reason = denied(&[
        (
            "package.json",
            r#"{"dependencies":{"react-native":"0.74"}}"#,
        ),
        ("App.tsx", ""),
    ]);
    assert!(reason.contains("mobile"), "{reason}");
    let reason = denied(&[(
        "app/build.gradle",
        "plugins { id 'com.android.application' }\n",
    )]);
    assert!(reason.contains("mobile"), "{reason}");
}

#[test]
fn bots_that_only_connect_out_are_denied() {
    let reason = denied(&[
        ("requirements.txt", "python-telegram-bot\n"),
        (
            "bot.py",
            "from telegram.ext import Application\napp = Application.builder().build()\napp.run_polling()\n",
        ),
    ]);
    assert!(
        reason.contains("bot") && reason.contains("bot.py:3"),
        "{reason}"
    );
    let reason = denied(&[
        ("package.json", r#"{"dependencies":{"@slack/bolt":"3"}}"#),
        (
            "app.js",
            "const { App } = require('@slack/bolt');\nconst app = new App({ socketMode: true });\n",
        ),
    ]);
    assert!(reason.contains("bot"), "{reason}");
}

#[test]
fn jobs_and_notebooks_are_denied() {
    let reason = denied(&[
        ("requirements.txt", "schedule\n"),
        (
            "job.py",
            "import schedule\nschedule.every(10).minutes.do(run)\n",
        ),
    ]);
    assert!(reason.contains("batch job"), "{reason}");
    let reason = denied(&[("requirements.txt", "pandas\n"), ("analysis.ipynb", "{}")]);
    assert!(reason.contains("notebooks"), "{reason}");
}

#[test]
fn an_empty_repository_is_denied() {
    let a = run(&[("README.md", "# nothing")]);
    assert!(!a.http);
    assert!(
        a.deny_reason
            .is_some_and(|r| r.contains("No application found"))
    );
}

// ---------------------------------------------------------------- monorepos

const MONOREPO: &[(&str, &str)] = &[
    (
        "frontend/package.json",
        r#"{"scripts":{"build":"vite build"},"devDependencies":{"vite":"5"}}"#,
    ),
    ("frontend/index.html", "<div></div>"),
    ("backend/requirements.txt", "flask\n"),
    (
        "backend/app.py",
        "from flask import Flask\napp = Flask(__name__)\n",
    ),
    ("worker/requirements.txt", "celery\n"),
    (
        "worker/tasks.py",
        "from celery import Celery\napp = Celery('w')\n",
    ),
];

#[test]
fn monorepo_prefers_the_backend_and_says_why() {
    let a = run(MONOREPO);
    assert_eq!(
        (a.subdir.as_str(), a.framework.as_deref()),
        ("backend", Some("flask"))
    );
    assert_eq!(a.apps.len(), 3);
    assert!(
        a.notes.iter().any(|n| n.contains("Picked `backend`")),
        "{:?}",
        a.notes
    );
}

#[test]
fn monorepo_follows_the_description() {
    let a = run_with(MONOREPO, &parse_requirements("deploy the frontend, cheap"));
    assert_eq!(
        (a.subdir.as_str(), a.framework.as_deref()),
        ("frontend", Some("vite"))
    );
    assert!(a.notes.iter().any(|n| n.contains("description names it")));
    let a = run_with(MONOREPO, &parse_requirements("deploy the worker"));
    assert_eq!(a.subdir, "worker");
    assert!(!a.http, "a named worker is still not a server");
}

/// A root tool with a Go service kept in `samples/go/`, a folder whose
/// contents are otherwise left out (samples name frameworks that are not
/// the app's): the description's folder brings it in.
const SAMPLE_SERVICE: &[(&str, &str)] = &[
    ("Pipfile", "[packages]\nboto3 = \"*\"\n"),
    (
        "cli.py",
        "import argparse\n\ndef main():\n    argparse.ArgumentParser()\n",
    ),
    (
        "samples/go/Dockerfile",
        "FROM golang:latest\nCOPY ./app /go/src/app\n",
    ),
    (
        "samples/go/app/main.go",
        "package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc main() {\n\thttp.ListenAndServe(fmt.Sprintf(\":%s\", os.Getenv(\"HOST_PORT\")), nil)\n}\n",
    ),
    (
        "examples/blog/package.json",
        r#"{"dependencies":{"express":"4"}}"#,
    ),
    (
        "examples/blog/server.js",
        "const app = require('express')();\napp.listen(process.env.PORT || 3000);\n",
    ),
];

#[test]
fn a_folder_the_description_names_is_deployed_whatever_it_is_called() {
    let a = run(SAMPLE_SERVICE);
    assert_ne!(a.subdir, "samples/go", "samples are left out unless named");
    let a = run_with(
        SAMPLE_SERVICE,
        &parse_requirements(
            "small web app on a single server; deploy the Go service in samples/go/",
        ),
    );
    assert_eq!(
        (a.subdir.as_str(), a.language.as_deref(), a.http),
        ("samples/go", Some("go"), true),
        "{:?}",
        a.notes
    );
    assert_eq!(a.port_env.as_deref(), Some("HOST_PORT"));
    assert!(
        a.notes.iter().any(|n| n.contains("names its folder")),
        "{:?}",
        a.notes
    );
    let a = run_with(
        SAMPLE_SERVICE,
        &parse_requirements("deploy the app in the examples/blog folder"),
    );
    assert_eq!(
        (a.subdir.as_str(), a.framework.as_deref()),
        ("examples/blog", Some("express"))
    );
    // A folder that is not in the repository changes nothing.
    let a = run_with(SAMPLE_SERVICE, &parse_requirements("deploy services/api"));
    assert_ne!(a.subdir, "services/api");
}

#[test]
fn a_named_folder_whose_server_is_one_level_down_deploys_that_server() {
    let files: &[(&str, &str)] = &[
        ("README.md", "# blog\n"),
        ("site/requirements.txt", "Django\ngunicorn\n"),
        (
            "site/blog/manage.py",
            "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'blog.settings')\n",
        ),
        ("site/blog/blog/__init__.py", ""),
        ("site/blog/blog/settings.py", "ROOT_URLCONF = 'blog.urls'\n"),
        ("site/blog/blog/urls.py", "urlpatterns = []\n"),
        (
            "site/blog/blog/wsgi.py",
            "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n",
        ),
        ("tools/cli.py", "import argparse\n"),
    ];
    let a = run_with(
        files,
        &parse_requirements("deploy the Django blog in site/ on a single server"),
    );
    assert_eq!(
        (a.subdir.as_str(), a.framework.as_deref(), a.http),
        ("site/blog", Some("django"), true),
        "{:?} {:?}",
        a.deny_reason,
        a.notes
    );
}

#[test]
fn a_root_read_only_through_a_folders_files_is_that_folders_app() {
    // The root has a compose file and a PHP image for `src/`, no app of its
    // own: its `src/public/index.php` is the Laravel app's.
    let a = run(&[
        (
            "compose.yaml",
            "services:\n  php:\n    build: ./docker/php\n    volumes:\n      - ./src:/var/www/html\n",
        ),
        ("docker/php/Dockerfile", "FROM php:8.4-fpm\n"),
        (
            "src/composer.json",
            r#"{"require":{"laravel/framework":"^12.0"}}"#,
        ),
        ("src/artisan", "#!/usr/bin/env php\n"),
        ("src/public/index.php", "<?php\n"),
    ]);
    assert_eq!(
        (a.subdir.as_str(), a.framework.as_deref()),
        ("src", Some("laravel")),
        "{:?}",
        a.notes
    );
}

// ---------------------------------------------------------------- env

#[test]
fn env_vars_required_secret_and_defaults() {
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node index.js"},"dependencies":{"express":"4"}}"#,
        ),
        (
            "index.js",
            "const express = require('express');\nconst key = process.env.API_KEY;\nconst level = process.env.LOG_LEVEL || 'info';\nconst { REGION = 'eu' } = process.env;\nexpress().listen(3000);\n",
        ),
        (
            ".env.example",
            "API_KEY=\nSENTRY_DSN=<your dsn>\nLOG_LEVEL=debug\nCACHE_TTL=60\n",
        ),
        (
            "Dockerfile",
            "FROM node\nENV SENTRY_DSN=\"\"\nCMD node index.js\n",
        ),
    ]);
    assert_eq!(a.required_env, ["API_KEY"]);
    let var = |name: &str| {
        a.env
            .iter()
            .find(|v| v.name == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    assert!(var("API_KEY").secret && var("API_KEY").required);
    assert!(!var("SENTRY_DSN").required, "the Dockerfile sets it");
    assert_eq!(var("LOG_LEVEL").default.as_deref(), Some("info"));
    assert_eq!(var("CACHE_TTL").default.as_deref(), Some("60"));
    assert!(!var("REGION").required);
}

#[test]
fn root_env_example_counts_for_an_app_in_a_subdirectory() {
    let a = run(&[
        (".env.example", "OPENAI_API_KEY=\n"),
        ("api/requirements.txt", "fastapi\n"),
        (
            "api/main.py",
            "from fastapi import FastAPI\napp = FastAPI()\n",
        ),
        ("web/index.html", "<html>"),
    ]);
    assert_eq!(a.subdir, "api");
    assert_eq!(a.required_env, ["OPENAI_API_KEY"]);
}

#[test]
fn analysis_is_deterministic_and_serialises_its_contract_fields() {
    let files = MONOREPO;
    let first = serde_json::to_value(run(files)).unwrap();
    assert_eq!(first, serde_json::to_value(run(files)).unwrap());
    for field in [
        "http",
        "deny_reason",
        "language",
        "framework",
        "subdir",
        "port",
        "port_env",
        "start_command",
        "required_env",
        "dockerized",
        "docker_files",
        "evidence",
    ] {
        assert!(first.get(field).is_some(), "missing {field}");
    }
}

#[test]
fn phoenix_port_comes_from_the_port_variable_and_raise_makes_a_variable_required() {
    let a = run(&[
        (
            "mix.exs",
            "defmodule Chat.MixProject do\n  defp deps do\n    [{:phoenix, \"~> 1.7\"}]\n  end\nend\n",
        ),
        (
            "config/runtime.exs",
            "import Config\nif config_env() == :prod do\n  database_url =\n    System.get_env(\"DATABASE_URL\") ||\n      raise \"\"\"\n      DATABASE_URL is missing.\n      \"\"\"\n  pool_size: String.to_integer(System.get_env(\"POOL_SIZE\") || \"10\")\n  port = String.to_integer(System.get_env(\"PORT\") || \"4000\")\nend\n",
        ),
    ]);
    assert_eq!(a.port, Some(4000));
    assert_eq!(a.required_env, ["DATABASE_URL"]);
}

#[test]
fn committed_rails_credentials_without_their_key_need_the_master_key() {
    let files = [
        (
            "Gemfile",
            "source \"https://rubygems.org\"\ngem \"rails\", \"~> 7.1\"\n",
        ),
        (
            "config.ru",
            "require_relative \"config/environment\"\nrun Rails.application\n",
        ),
        ("config/credentials.yml.enc", "c2VjcmV0"),
    ];
    assert!(
        run(&files)
            .required_env
            .contains(&"RAILS_MASTER_KEY".to_owned())
    );
    let mut with_key = files.to_vec();
    with_key.push(("config/master.key", "0123456789abcdef"));
    assert!(
        !run(&with_key)
            .required_env
            .contains(&"RAILS_MASTER_KEY".to_owned())
    );
}

#[test]
fn example_values_do_not_name_a_database_or_a_secret_but_do_set_plain_settings() {
    let a = run(&[
        (
            "package.json",
            r#"{"name":"api","scripts":{"start":"node index.js"},"dependencies":{"express":"^4"}}"#,
        ),
        (
            "index.js",
            "const express = require('express');\nconst app = express();\nconst db = process.env.DATABASE_URL;\nconst secret = process.env.JWT_SECRET;\nconst level = process.env.LOG_LEVEL;\nif (process.env.SENTRY_DSN) { init(); }\napp.listen(process.env.PORT || 3000);\n",
        ),
        (
            ".env.example",
            "DATABASE_URL=postgres://user:pass@localhost:5432/app\nJWT_SECRET=dev-secret\nLOG_LEVEL=info\nSENTRY_DSN=\n",
        ),
    ]);
    assert_eq!(a.required_env, ["DATABASE_URL", "JWT_SECRET"]);
}

#[test]
fn an_env_schema_declares_what_the_app_refuses_to_start_without() {
    let a = run(&[
        (
            "package.json",
            r#"{"name":"api","scripts":{"start":"node dist/index.js"},"dependencies":{"express":"^4","zod":"^3"}}"#,
        ),
        (
            "src/index.ts",
            "import express from 'express';\nimport { env } from './env';\nconst app = express();\napp.listen(3000);\n",
        ),
        (
            "src/env.ts",
            "import { z } from 'zod';\nconst schema = z.object({\n  SESSION_SECRET: z.string().min(32),\n  STRIPE_KEY: z.string().optional(),\n  LOG_LEVEL: z.enum(['info', 'debug']).default('info'),\n});\nexport const env = schema.parse(process.env);\n",
        ),
    ]);
    assert_eq!(a.required_env, ["SESSION_SECRET"]);
}

#[test]
fn address_defaults_that_reach_nothing_once_deployed_do_not_count() {
    let a = run(&[(
        "index.php",
        "<?php\n$host = getenv('DB_HOST') ?: 'db';\n$user = getenv('DB_USER') ?: '';\n$name = getenv('APP_NAME') ?: '';\n$agent = getenv('DD_AGENT_HOST') ?: '';\n$cache = getenv('CACHE_HOST') ?: 'cache.acme.internal';\n",
    )]);
    assert_eq!(a.required_env, ["DB_HOST", "DB_USER"], "{:?}", a.env);
}

#[test]
fn a_port_read_from_a_validated_env_takes_the_example_file_value() {
    let a = run(&[
        (
            "package.json",
            r#"{"name":"api","scripts":{"start":"node dist/index.js"},"dependencies":{"express":"^4","envalid":"^8"}}"#,
        ),
        (
            "src/index.ts",
            "import express from 'express';\nimport { env } from './env';\nconst app = express();\napp.listen(env.API_PORT, () => {});\n",
        ),
        (
            "src/env.ts",
            "import { cleanEnv, port } from 'envalid';\nexport const env = cleanEnv(process.env, { API_PORT: port() });\n",
        ),
        (".env.example", "API_PORT=5000\nLOG_LEVEL=info\n"),
    ]);
    assert_eq!(a.port, Some(5000));
    assert_eq!(a.port_env.as_deref(), Some("API_PORT"));
    assert!(!a.required_env.contains(&"API_PORT".to_owned()));
}

#[test]
fn rails_cable_redis_is_needed_only_by_an_app_with_channels() {
    let mut files = vec![
        (
            "Gemfile",
            "source \"https://rubygems.org\"\ngem \"rails\", \"~> 7.1\"\n",
        ),
        (
            "config.ru",
            "require_relative \"config/environment\"\nrun Rails.application\n",
        ),
        (
            "config/cable.yml",
            "production:\n  adapter: redis\n  url: <%= ENV.fetch(\"REDIS_URL\") { \"redis://localhost:6379/1\" } %>\n",
        ),
        (
            "app/channels/application_cable/channel.rb",
            "module ApplicationCable\n  class Channel < ActionCable::Channel::Base\n  end\nend\n",
        ),
    ];
    assert!(!run(&files).required_env.contains(&"REDIS_URL".to_owned()));
    files.push((
        "app/channels/chat_channel.rb",
        "class ChatChannel < ApplicationCable::Channel\nend\n",
    ));
    assert!(run(&files).required_env.contains(&"REDIS_URL".to_owned()));
}

#[test]
fn laravel_runs_without_its_skeleton_url_and_redis_unless_a_driver_uses_it() {
    let files = |cache: &'static str| {
        vec![
            (
                "composer.json",
                r#"{"require":{"php":"^8.2","laravel/framework":"^11.9"}}"#,
            ),
            ("artisan", "#!/usr/bin/env php\n<?php\n"),
            ("public/index.php", "<?php\n"),
            (
                ".env.example",
                match cache {
                    "redis" => {
                        "APP_KEY=\nAPP_URL=http://localhost\nCACHE_STORE=redis\nREDIS_HOST=127.0.0.1\n"
                    }
                    _ => {
                        "APP_KEY=\nAPP_URL=http://localhost\nCACHE_STORE=file\nREDIS_HOST=127.0.0.1\n"
                    }
                },
            ),
        ]
    };
    let without = run(&files("file")).required_env;
    assert!(without.contains(&"APP_KEY".to_owned()), "{without:?}");
    assert!(!without.contains(&"APP_URL".to_owned()), "{without:?}");
    assert!(!without.contains(&"REDIS_HOST".to_owned()), "{without:?}");
    let with = run(&files("redis")).required_env;
    assert!(with.contains(&"REDIS_HOST".to_owned()), "{with:?}");
}

/// testdrivenio's Django image: an `ENTRYPOINT` script that migrates and
/// then runs what it is given (`exec "$@"`), and no `CMD`. The script is no
/// start command: the framework's is.
#[test]
fn an_entrypoint_that_only_runs_its_arguments_is_no_start_command() {
    let a = run(&[
        ("requirements.txt", "Django==4.1\ngunicorn==20.1.0\n"),
        (
            "manage.py",
            "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'core.settings')\n",
        ),
        ("core/settings.py", "SECRET_KEY = 'x'\n"),
        (
            "core/wsgi.py",
            "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n",
        ),
        (
            "Dockerfile",
            "FROM python:3.11-slim\nWORKDIR /usr/src/app\nCOPY . .\nRUN pip install -r requirements.txt\nENTRYPOINT [\"/usr/src/app/entrypoint.sh\"]\n",
        ),
        (
            "entrypoint.sh",
            "#!/bin/sh\npython manage.py migrate --no-input\nexec \"$@\"\n",
        ),
    ]);
    let start = a.start_command.unwrap_or_default();
    assert!(!start.contains("entrypoint.sh"), "{start}");
    assert!(
        start.contains("core.wsgi") || start.contains("runserver"),
        "{start}"
    );
}

/// Django without gunicorn in its requirements still runs on gunicorn (the
/// image installs it), not on the development server; a Channels app keeps
/// `runserver`, which serves its ASGI application through Daphne.
#[test]
fn django_runs_on_gunicorn_unless_it_serves_asgi_through_channels() {
    let project = |requirements: &'static str| {
        run(&[
            ("requirements.txt", requirements),
            (
                "manage.py",
                "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'blog.settings')\nfrom django.core.management import execute_from_command_line\n",
            ),
            ("blog/settings.py", "INSTALLED_APPS = []\n"),
            ("blog/wsgi.py", "application = None\n"),
        ])
    };
    assert_eq!(
        project("Django==5.1\n").start_command.as_deref(),
        Some("gunicorn blog.wsgi --bind 0.0.0.0:8000")
    );
    assert_eq!(
        project("Django==5.1\nchannels==4.1\ndaphne==4.1\n")
            .start_command
            .as_deref(),
        Some("python manage.py runserver 0.0.0.0:8000")
    );
    // Without its wsgi.py gunicorn has nothing to load.
    let bare = run(&[
        ("requirements.txt", "Django==5.1\n"),
        (
            "manage.py",
            "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'blog.settings')\n",
        ),
        ("blog/settings.py", "INSTALLED_APPS = []\n"),
    ]);
    assert_eq!(
        bare.start_command.as_deref(),
        Some("python manage.py runserver 0.0.0.0:8000")
    );
}

/// LinkAce's `.env.example` says `APP_KEY=someRandomStringWith32Characters`:
/// a slot to fill, not a key (Laravel refuses its length and answers 500).
#[test]
fn laravels_app_key_is_required_whatever_the_example_says() {
    let a = run(&[
        (
            "composer.json",
            r#"{"require":{"php":"^8.1","laravel/framework":"^10.0"}}"#,
        ),
        ("artisan", "#!/usr/bin/env php\n<?php\n"),
        ("public/index.php", "<?php\n"),
        (
            "config/app.php",
            "<?php\nreturn [\n    'name' => env('APP_NAME', 'LinkAce'),\n    'key' => env('APP_KEY'),\n];\n",
        ),
        (
            ".env.example",
            "APP_NAME=LinkAce\nAPP_KEY=someRandomStringWith32Characters\n",
        ),
    ]);
    assert!(
        a.required_env.contains(&"APP_KEY".to_owned()),
        "{:?}",
        a.required_env
    );
    let key = a.evidence.iter().find(|e| e.fact == "env:APP_KEY").unwrap();
    assert_eq!((key.file.as_str(), key.line), ("config/app.php", Some(4)));
}

#[test]
fn frameworks_on_deno_and_bun_are_named() {
    let a = run(&[
        (
            "import_map.json",
            r#"{"imports":{"oak":"https://deno.land/x/oak@v10.0.0/mod.ts"}}"#,
        ),
        (
            "server.ts",
            "import { Application } from \"oak\";\nconst app = new Application();\nawait app.listen({ port: 5000 });\n",
        ),
    ]);
    assert_eq!(
        (a.runtime(), a.framework.as_deref(), a.port),
        ("deno", Some("oak"), Some(5000))
    );
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"bun run src/app.ts"},"dependencies":{"hono":"^4"},"devDependencies":{"@types/bun":"^1"}}"#,
        ),
        (
            "src/app.ts",
            "import { Hono } from 'hono';\nconst app = new Hono();\nexport default { port: 3002, fetch: app.fetch };\n",
        ),
    ]);
    assert_eq!(
        (a.runtime(), a.framework.as_deref(), a.port),
        ("bun", Some("hono"), Some(3002))
    );
}

// ---------------------------------------------------------------- Ruby

/// Rack 3 moved `rackup` into a gem of its own: an app that lists Puma but
/// not `rackup` is served by Puma, which it has.
#[test]
fn a_config_ru_is_served_by_puma_when_the_gemfile_has_it() {
    let app = (
        "app.rb",
        "require \"sinatra/base\"\nclass App < Sinatra::Base\n  get(\"/\") { \"hi\" }\nend\n",
    );
    let config_ru = ("config.ru", "require_relative \"app\"\nrun App\n");
    let a = run(&[
        (
            "Gemfile",
            "source \"https://rubygems.org\"\ngem \"sinatra\", \"~> 4.0\"\ngem \"puma\"\n",
        ),
        app,
        config_ru,
    ]);
    assert_eq!(
        a.start_command.as_deref(),
        Some("bundle exec puma -b tcp://0.0.0.0:9292 config.ru")
    );

    let a = run(&[
        (
            "Gemfile",
            "source \"https://rubygems.org\"\ngem \"sinatra\"\ngem \"puma\"\ngem \"rackup\"\n",
        ),
        app,
        config_ru,
    ]);
    assert_eq!(
        a.start_command.as_deref(),
        Some("bundle exec rackup -o 0.0.0.0 -p 9292")
    );
}

#[test]
fn hapi_before_its_scope_is_hapi() {
    let a = run(&[
        ("package.json", r#"{"dependencies":{"hapi":"^17.5.2"}}"#),
        (
            "server.js",
            "const Hapi = require('hapi');\nconst server = Hapi.server({ port: process.env.PORT || 3000 });\nserver.start();\n",
        ),
    ]);
    assert_eq!(
        (a.http, a.framework.as_deref()),
        (true, Some("hapi")),
        "{a:#?}"
    );
}

const SERVER_SENDING_CLIENT_BUILD: &str = "const express = require('express');\nconst path = require('path');\nconst app = express();\napp.use(express.static(path.join(__dirname, 'client', 'build')));\napp.get('*', (req, res) => res.sendFile(path.join(__dirname, 'client/build/index.html')));\napp.listen(process.env.PORT || 5000);\n";

#[test]
fn a_frontend_the_server_sends_is_built_by_the_image() {
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node server.js"},"dependencies":{"express":"4"}}"#,
        ),
        ("server.js", SERVER_SENDING_CLIENT_BUILD),
        (
            "client/package.json",
            r#"{"scripts":{"start":"react-scripts start","build":"react-scripts build"},"dependencies":{"react":"18","react-scripts":"5"}}"#,
        ),
        ("client/package-lock.json", "{}"),
        ("client/src/index.js", "import React from 'react';\n"),
    ]);
    assert_eq!(a.framework.as_deref(), Some("express"));
    assert_eq!(
        a.build_command.as_deref(),
        Some("npm --prefix client ci && npm --prefix client run build")
    );
    assert!(
        a.notes
            .iter()
            .any(|n| n.contains("server.js:4") && n.contains("client/")),
        "{:#?}",
        a.notes
    );
}

#[test]
fn a_root_script_that_builds_the_frontend_is_the_build() {
    let heroku = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node server.js","heroku-postbuild":"NPM_CONFIG_PRODUCTION=false npm install --prefix client && npm run build --prefix client"},"dependencies":{"express":"4"}}"#,
        ),
        ("server.js", SERVER_SENDING_CLIENT_BUILD),
        (
            "client/package.json",
            r#"{"scripts":{"build":"react-scripts build"},"dependencies":{"react-scripts":"5"}}"#,
        ),
    ]);
    assert_eq!(
        heroku.build_command.as_deref(),
        Some("npm run heroku-postbuild")
    );
    let own = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node server.js","client-build":"cd client && npm i && npm run build"},"dependencies":{"express":"4"}}"#,
        ),
        ("server.js", SERVER_SENDING_CLIENT_BUILD),
        (
            "client/package.json",
            r#"{"scripts":{"build":"react-scripts build"},"dependencies":{"react-scripts":"5"}}"#,
        ),
    ]);
    assert_eq!(own.build_command.as_deref(), Some("npm run client-build"));
}

#[test]
fn a_folder_the_server_does_not_send_is_not_built() {
    let a = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node server.js"},"dependencies":{"express":"4"}}"#,
        ),
        (
            "server.js",
            "const express = require('express');\nconst app = express();\napp.use(express.static('public'));\napp.listen(process.env.PORT || 5000);\n",
        ),
        (
            "docs/package.json",
            r#"{"scripts":{"build":"vuepress build"},"devDependencies":{"vuepress":"1"}}"#,
        ),
    ]);
    assert_eq!(a.build_command, None);
}

/// The test settings' default is the tests', not the deployed app's.
#[test]
fn a_default_in_the_test_settings_leaves_the_variable_required() {
    let a = run(&[
        (
            "pyproject.toml",
            "[tool.poetry]\nname = \"x\"\n[tool.poetry.dependencies]\nfastapi = \"*\"\nuvicorn = \"*\"\npydantic-settings = \"*\"\n",
        ),
        (
            "app/main.py",
            "from fastapi import FastAPI\nfrom app.core.settings.app import AppSettings\nsettings = AppSettings()\napp = FastAPI()\n",
        ),
        (
            "app/core/settings/app.py",
            "from pydantic import SecretStr\nfrom pydantic_settings import BaseSettings\n\nclass AppSettings(BaseSettings):\n    secret_key: SecretStr\n",
        ),
        (
            "app/core/settings/test.py",
            "from pydantic import SecretStr\nfrom app.core.settings.app import AppSettings\n\nclass TestAppSettings(AppSettings):\n    secret_key: SecretStr = SecretStr(\"test_secret\")\n",
        ),
    ]);
    assert!(
        a.required_env.contains(&"SECRET_KEY".to_owned()),
        "{:?}\n{:#?}",
        a.required_env,
        a.env
    );
}

/// Set to the wrong name, Flask answers 404 to every request: the app's
/// `SERVER_NAME` read is not a variable to demand.
#[test]
fn flasks_server_name_is_not_demanded() {
    let a = run(&[
        ("requirements.txt", "flask\ngunicorn\n"),
        (
            "config.py",
            "import os\n\nclass Config:\n    SERVER_NAME = os.environ.get('SERVER_NAME')\n    SECRET_KEY = os.environ['SECRET_KEY']\n",
        ),
        (
            "app.py",
            "from flask import Flask\nfrom config import Config\napp = Flask(__name__)\napp.config.from_object(Config)\n",
        ),
    ]);
    assert_eq!(a.framework.as_deref(), Some("flask"));
    assert!(a.required_env.contains(&"SECRET_KEY".to_owned()));
    assert!(
        !a.required_env.contains(&"SERVER_NAME".to_owned()),
        "{:?}",
        a.required_env
    );
}

/// `prisma/.env` is Prisma's; an app on TypeORM never reads it.
#[test]
fn a_prisma_env_file_left_in_an_app_without_prisma_is_not_its_settings() {
    let files = |deps: &str| {
        let manifest = format!(
            r#"{{"scripts":{{"start":"node dist/main.js"}},"dependencies":{{"@nestjs/core":"9",{deps}}}}}"#
        );
        run(&[
            ("package.json", manifest.as_str()),
            (
                "src/main.ts",
                "import { NestFactory } from '@nestjs/core';\nasync function bootstrap() { const app = await NestFactory.create(AppModule); await app.listen(3000); }\n",
            ),
            (
                "prisma/.env",
                "DATABASE_URL=\"mysql://root:root@localhost:3306/nestjs\"\n",
            ),
        ])
    };
    let typeorm = files(r#""typeorm":"0.2""#);
    assert!(
        !typeorm.env.iter().any(|v| v.name == "DATABASE_URL"),
        "{:#?}",
        typeorm.env
    );
    let prisma = files(r#""@prisma/client":"5""#);
    assert!(prisma.env.iter().any(|v| v.name == "DATABASE_URL"));
}

/// The settings class reads them with `.get()`; the code that uses them
/// tests the setting first and runs without: they are optional.
#[test]
fn settings_the_app_tests_before_use_are_optional() {
    let a = run(&[
        ("requirements.txt", "flask\ngunicorn\nelasticsearch\n"),
        (
            "config.py",
            "import os\n\nclass Config:\n    SECRET_KEY = os.environ['SECRET_KEY']\n    ELASTICSEARCH_URL = os.environ.get('ELASTICSEARCH_URL')\n    MS_TRANSLATOR_KEY = os.environ.get('MS_TRANSLATOR_KEY')\n    MAIL_SERVER = os.environ.get('MAIL_SERVER')\n",
        ),
        (
            "app/__init__.py",
            "from flask import Flask\nfrom elasticsearch import Elasticsearch\nfrom config import Config\n\ndef create_app():\n    app = Flask(__name__)\n    app.config.from_object(Config)\n    app.elasticsearch = Elasticsearch([app.config['ELASTICSEARCH_URL']]) \\\n        if app.config['ELASTICSEARCH_URL'] else None\n    mail_host = app.config['MAIL_SERVER'].split(':')[0]\n    return app\n",
        ),
        (
            "app/translate.py",
            "from flask import current_app\n\ndef translate(text):\n    if 'MS_TRANSLATOR_KEY' not in current_app.config or \\\n            not current_app.config['MS_TRANSLATOR_KEY']:\n        return 'Error: the translation service is not configured.'\n    return text\n",
        ),
        (
            "wsgi.py",
            "from app import create_app\napp = create_app()\n",
        ),
    ]);
    for optional in ["ELASTICSEARCH_URL", "MS_TRANSLATOR_KEY"] {
        assert!(
            !a.required_env.contains(&optional.to_owned()),
            "{optional}: {:?}\n{:#?}",
            a.required_env,
            a.env
        );
    }
    assert!(a.required_env.contains(&"SECRET_KEY".to_owned()));
}

/// Fallbacks written around a conversion or over a line break.
#[test]
fn fallbacks_after_a_radix_or_a_line_break_are_defaults() {
    let node = run(&[
        (
            "package.json",
            r#"{"scripts":{"start":"node server.js"},"dependencies":{"express":"4"}}"#,
        ),
        (
            "server.js",
            "const express = require('express');\nconst limit = parseInt(process.env.RATE_LIMIT_MAX, 10) || 100;\nconst app = express();\napp.listen(3000);\n",
        ),
    ]);
    assert!(
        !node.required_env.contains(&"RATE_LIMIT_MAX".to_owned()),
        "{:?}",
        node.required_env
    );
    let flask = run(&[
        ("requirements.txt", "flask\nflask-sqlalchemy\n"),
        (
            "config.py",
            "import os\n\nclass Config:\n    GITHUB_API_URL = os.environ.get('GITHUB_API_URL') or \\\n        'https://api.github.com'\n",
        ),
        (
            "app.py",
            "from flask import Flask\nfrom config import Config\napp = Flask(__name__)\napp.config.from_object(Config)\n",
        ),
    ]);
    assert!(
        !flask.required_env.contains(&"GITHUB_API_URL".to_owned()),
        "{:?}",
        flask.required_env
    );
}

/// Heroku's PHP buildpack brings `heroku-php-apache2`; no image here has it.
#[test]
fn a_procfile_that_runs_a_buildpacks_server_is_not_the_start_command() {
    let a = run(&[
        (
            "composer.json",
            r#"{"require":{"php":"^8.2","laravel/framework":"^11.0"}}"#,
        ),
        ("artisan", "#!/usr/bin/env php\n<?php\n"),
        ("public/index.php", "<?php\n"),
        ("routes/web.php", "<?php\nRoute::get('/', fn () => 'ok');\n"),
        ("Procfile", "web: vendor/bin/heroku-php-apache2 public/\n"),
    ]);
    assert_eq!(a.framework.as_deref(), Some("laravel"));
    assert!(
        a.start_command
            .as_deref()
            .is_some_and(|c| !c.contains("heroku")),
        "{:?}",
        a.start_command
    );
}

/// The image sets `FLASK_CONFIG production`; the code's `or 'default'` is
/// the development configuration, not a value to hand the container.
#[test]
fn a_variable_the_image_sets_keeps_no_code_default() {
    let a = run(&[
        ("requirements.txt", "flask\ngunicorn\n"),
        (
            "flasky.py",
            "import os\nfrom flask import Flask\napp = Flask(__name__)\nconfig_name = os.getenv('FLASK_CONFIG') or 'default'\n",
        ),
        (
            "Dockerfile",
            "FROM python:3.12-alpine\nENV FLASK_APP flasky.py\nENV FLASK_CONFIG production\nCOPY . .\nRUN pip install -r requirements.txt\nCMD gunicorn -b :5000 flasky:app\n",
        ),
    ]);
    let config = a.env.iter().find(|v| v.name == "FLASK_CONFIG");
    assert!(
        config.is_some_and(|v| v.default.is_none() && !v.required),
        "{config:?}"
    );
}

#[test]
fn a_helper_built_from_its_own_dockerfile_lends_the_app_no_port() {
    let a = run(&[
        (
            "package.json",
            r#"{"dependencies":{"@nestjs/core":"^10.0.0"},"scripts":{"start:prod":"node dist/main"}}"#,
        ),
        (
            "src/main.ts",
            "import { NestFactory } from '@nestjs/core';\nasync function bootstrap() {\n  const app = await NestFactory.create(AppModule);\n  await app.listen(configService.getOrThrow('app.port', { infer: true }));\n}\nbootstrap();\n",
        ),
        (
            "docker-compose.yaml",
            "services:\n  maildev:\n    build:\n      context: .\n      dockerfile: maildev.Dockerfile\n    ports:\n      - ${MAIL_CLIENT_PORT}:1080\n  api:\n    build:\n      context: .\n      dockerfile: Dockerfile\n    ports:\n      - ${APP_PORT}:${APP_PORT}\n",
        ),
        (
            "maildev.Dockerfile",
            "FROM node:22-alpine\nRUN npm i -g maildev\nCMD [\"maildev\"]\n",
        ),
        (
            "Dockerfile",
            "FROM node:22-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\nCMD [\"node\", \"dist/main\"]\n",
        ),
    ]);
    assert_ne!(a.port, Some(1080), "the helper's port is not the app's");
}

#[test]
fn a_health_route_on_a_router_mounted_under_a_prefix_is_no_health_path() {
    let files = |health: &'static str| {
        run(&[
            ("requirements.txt", "fastapi\nuvicorn\n"),
            (
                "app/main.py",
                "from fastapi import FastAPI\nfrom app.api import api_router\nfrom app.core.config import settings\napp = FastAPI()\napp.include_router(api_router, prefix=settings.API_V1_STR)\n",
            ),
            ("app/api/routes/utils.py", health),
            (
                "app/core/settings.py",
                "PING_ENDPOINT = SITE_ROOT + \"/ping/\"\n",
            ),
        ])
    };
    let a = files(
        "from fastapi import APIRouter\nrouter = APIRouter(prefix=\"/utils\")\n\n@router.get(\"/health-check/\")\nasync def health_check() -> bool:\n    return True\n",
    );
    assert_eq!(
        a.health_path, None,
        "served under prefixes the analysis cannot read"
    );
    let a = files(
        "from app.main import app\n\n@app.get(\"/health\")\nasync def health() -> bool:\n    return True\n",
    );
    assert_eq!(
        a.health_path.as_deref(),
        Some("/health"),
        "on the app itself"
    );
    // A prefix that reads like a health path is where a router starts.
    let a = run(&[
        ("requirements.txt", "fastapi\nuvicorn\n"),
        (
            "app/main.py",
            "from fastapi import FastAPI\nfrom app.api.health import router as health_router\napp = FastAPI()\napp.include_router(\n    health_router,\n    prefix=\"/v1/health\",\n)\n",
        ),
        (
            "app/api/health.py",
            "from fastapi import APIRouter\nrouter = APIRouter()\n\n@router.get(\"/redis\")\nasync def redis_check():\n    return {}\n",
        ),
    ]);
    assert_eq!(a.health_path, None, "{:?}", a.health_path);
}

#[test]
fn a_gitpod_workspace_dockerfile_is_not_the_apps_even_when_alone() {
    let a = run(&[
        ("requirements.txt", "flask==2.3\n"),
        (
            "app.py",
            "import os\nfrom flask import Flask\napp = Flask(__name__)\n\nif __name__ == \"__main__\":\n    app.run(host=os.environ.get(\"IP\"), port=os.environ.get(\"PORT\"))\n",
        ),
        (
            ".gitpod.dockerfile",
            "FROM gitpod/workspace-full\nENV PORT=8080\nUSER gitpod\n",
        ),
    ]);
    assert_eq!(a.framework.as_deref(), Some("flask"));
    assert_eq!(a.port, Some(5000));
    // `host=os.environ.get("IP")` with IP unset is Flask's 127.0.0.1: the
    // deployment sets IP, and does not ask the user for it.
    assert!(a.bind.loopback_only);
    assert_eq!(a.bind.fix.as_deref(), Some("set IP=0.0.0.0"));
    assert!(
        !a.required_env.contains(&"IP".to_owned()),
        "{:?}",
        a.required_env
    );
}

#[test]
fn a_procfiles_other_processes_are_the_apps_workers() {
    let a = run(&[
        ("requirements.txt", "django==4.2\ngunicorn\ncelery\n"),
        ("manage.py", "import django\n"),
        ("proj/settings.py", "SECRET_KEY = 'x'\n"),
        ("proj/wsgi.py", "application = None\n"),
        (
            "Procfile",
            "web: gunicorn proj.wsgi\nrelease: python manage.py migrate\nworker: celery -A proj worker -l info\nbeat: celery -A proj beat\ninit: python create_db.py\nsync: python jobs/sync.py\nfeeds: python3 -u jobs/feeds.py\n",
        ),
        ("jobs/feeds.py", "print('feeds')\n"),
    ]);
    assert_eq!(a.start_command.as_deref(), Some("gunicorn proj.wsgi"));
    let workers: Vec<(&str, &str)> = a
        .workers
        .iter()
        .map(|w| (w.name.as_str(), w.command.as_str()))
        .collect();
    assert_eq!(
        workers,
        [
            ("worker", "celery -A proj worker -l info"),
            ("beat", "celery -A proj beat"),
            ("feeds", "python3 -u jobs/feeds.py")
        ]
    );
    // A one-shot step is no process; one whose script is not there would
    // restart forever, and the analysis says so.
    assert!(
        a.notes
            .iter()
            .any(|n| n
                .contains("`sync` process runs `jobs/sync.py`, which is not in the repository")),
        "{:#?}",
        a.notes
    );
    assert!(
        a.evidence
            .iter()
            .any(|e| e.fact == "worker:worker" && e.line == Some(3))
    );
}

#[test]
fn an_example_files_database_image_settings_are_not_the_apps_when_it_connects_otherwise() {
    let example = (
        ".env.example",
        "POSTGRES_USER=app\nPOSTGRES_PASSWORD=secret\nPOSTGRES_DB=app\nDATABASE_URL=postgresql://app:secret@db:5432/app\n",
    );
    let a = run(&[
        ("requirements.txt", "fastapi\nuvicorn\npsycopg2-binary\n"),
        (
            "main.py",
            "import os\nfrom fastapi import FastAPI\nDATABASE_URL = os.environ[\"DATABASE_URL\"]\napp = FastAPI()\n",
        ),
        example,
    ]);
    assert_eq!(a.required_env, ["DATABASE_URL"]);
    // Read by the code itself, the same names are the app's.
    let a = run(&[
        ("requirements.txt", "fastapi\nuvicorn\npsycopg2-binary\n"),
        (
            "main.py",
            "import os\nfrom fastapi import FastAPI\nPASSWORD = os.environ[\"POSTGRES_PASSWORD\"]\nDATABASE_URL = os.environ[\"DATABASE_URL\"]\napp = FastAPI()\n",
        ),
        example,
    ]);
    assert!(
        a.required_env.contains(&"POSTGRES_PASSWORD".to_owned()),
        "{:?}",
        a.required_env
    );
}

#[test]
fn an_example_files_sqlite_url_is_a_default_and_a_servers_address_is_not() {
    let app = |url: &str| {
        run(&[
            ("requirements.txt", "fastapi\nuvicorn\nsqlalchemy\n"),
            (
                "main.py",
                "import os\nfrom fastapi import FastAPI\nfrom sqlalchemy import create_engine\nengine = create_engine(os.getenv(\"DATABASE_URL\"))\napp = FastAPI()\n",
            ),
            (".env.example", &format!("DATABASE_URL={url}\n")),
        ])
    };
    let a = app("sqlite:///app.db");
    assert!(a.required_env.is_empty(), "{:?}", a.required_env);
    let url = a.env.iter().find(|v| v.name == "DATABASE_URL").unwrap();
    assert_eq!(url.default.as_deref(), Some("sqlite:///app.db"));
    let a = app("postgresql://app:secret@db.internal:5432/app");
    assert_eq!(a.required_env, ["DATABASE_URL"]);
}

#[test]
fn a_gin_engine_made_in_another_package_is_run_on_the_port_main_reads() {
    let a = run(&[
        (
            "go.mod",
            "module example.com/animals\n\ngo 1.21\n\nrequire github.com/gin-gonic/gin v1.10.0\n",
        ),
        (
            "main.go",
            "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\n\t\"example.com/animals/internal/cmd\"\n)\n\nfunc main() {\n\tvar APP_PORT = os.Getenv(\"APP_PORT\")\n\tengine := cmd.InitApp()\n\taddr := fmt.Sprintf(\":%s\", APP_PORT)\n\tengine.Run(addr)\n}\n",
        ),
        (
            "internal/cmd/app.go",
            "package cmd\n\nimport \"github.com/gin-gonic/gin\"\n\nfunc InitApp() *gin.Engine {\n\treturn gin.Default()\n}\n",
        ),
    ]);
    assert_eq!(a.framework.as_deref(), Some("gin"));
    assert_eq!(a.port_env.as_deref(), Some("APP_PORT"));
    assert!(
        !a.required_env.contains(&"APP_PORT".to_owned()),
        "{:?}",
        a.required_env
    );
}

/// Ktor's dependencies named through a `buildSrc` helper
/// (`ktorDependency("server-netty")`): `buildSrc/` is Gradle's build logic,
/// not the app, and the code's imports say Ktor.
#[test]
fn a_ktor_app_whose_build_names_its_dependencies_through_build_src() {
    let a = run(&[
        (
            "build.gradle.kts",
            "plugins {\n    kotlin(\"jvm\")\n    application\n}\n\ndependencies {\n    implementation(ktorDependency(\"server-netty\"))\n}\n",
        ),
        (
            "buildSrc/build.gradle.kts",
            "plugins {\n    `kotlin-dsl`\n}\nrepositories { mavenCentral() }\n",
        ),
        (
            "buildSrc/src/main/kotlin/Dependencies.kt",
            "fun ktorDependency(module: String) = \"io.ktor:ktor-$module:2.3.0\"\n",
        ),
        (
            "src/main/kotlin/Main.kt",
            "import io.ktor.server.engine.*\nimport io.ktor.server.netty.*\n\nfun main() {\n    embeddedServer(Netty, port = 8080) {}.start(wait = true)\n}\n",
        ),
    ]);
    assert!(a.http, "{:?}", a.deny_reason);
    assert_eq!(a.framework.as_deref(), Some("ktor"));
    assert_eq!(a.subdir, ".");
    assert_eq!(a.port, Some(8080));
}

/// A Go service with a stray Flask `app.py` (no Python manifest) beside
/// its `go.mod`: the language its manifest names is the app's.
#[test]
fn a_manifest_backed_language_beats_a_stray_source_file() {
    let a = run(&[
        (
            "go.mod",
            "module shop\n\ngo 1.21\n\nrequire github.com/labstack/echo/v4 v4.11.4\n",
        ),
        (
            "cmd/main.go",
            "package main\n\nimport \"github.com/labstack/echo/v4\"\n\nfunc main() {\n\te := echo.New()\n\te.Logger.Fatal(e.Start(\":8080\"))\n}\n",
        ),
        (
            "app.py",
            "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef hello():\n    return 'hi'\n",
        ),
    ]);
    assert_eq!(a.language.as_deref(), Some("go"), "{:?}", a.evidence);
    assert_eq!(a.framework.as_deref(), Some("echo"));
}
