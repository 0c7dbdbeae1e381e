# deployflow: the usual entry points. `make help` lists them.
CARGO ?= cargo
COMPOSE ?= docker compose -f compose/compose.yaml
BENCH_ARGS ?= --jobs 2000 --steps 5 --concurrency 16
BENCH_API_ARGS ?= --requests 2000 --concurrency 16

.PHONY: help up down run worker migrate test lint bench bench-api bench-analyse build env

help: ## List targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

up: .env ## Start PostgreSQL, workers, the API (:8080) and Jaeger (:16686)
	$(COMPOSE) up -d --build

# A first `make up` gets a .env with a fresh SECRETS_KEY, which every process shares.
.env:
	sed "s/^SECRETS_KEY=.*/SECRETS_KEY=$$(openssl rand -hex 32)/" .env.example > .env

down: ## Stop the compose stack
	$(COMPOSE) down

build: ## Build the deployflow binary (release)
	$(CARGO) build --release --locked --bin deployflow

run: ## Serve the API with a worker on the embedded default (SQLite in ./data)
	$(CARGO) run --locked --bin deployflow -- serve

migrate: ## Apply database migrations to $$DATABASE_URL (or ./data)
	$(CARGO) run --locked --bin deployflow -- migrate

test: ## Run every test (needs PostgreSQL on 127.0.0.1:5432)
	$(CARGO) nextest run --workspace --locked --no-fail-fast

lint: ## Formatting and clippy, as CI runs them
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

bench: ## Engine benchmark against $$DATABASE_URL (or ./data)
	$(CARGO) run --release --locked --bin deployflow -- bench engine $(BENCH_ARGS)

bench-analyse: ## Analysis detectors over the fixture repositories
	$(CARGO) run --release --locked --bin deployflow -- bench analyse

bench-api: ## API benchmark (in-process API + worker) on $$DATABASE_URL (or ./data)
	$(CARGO) run --release --locked --bin deployflow -- bench api $(BENCH_API_ARGS)
