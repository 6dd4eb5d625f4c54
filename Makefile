# Two commands do all the set-up: `make serve` and `make test`.
# Both create .venv and install the project into it on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve join test lint fmt clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## serve: run the server on its defaults (EASYCHAT_* environment variables apply)
serve: $(STAMP)
	$(BIN)/easychat serve

## join: run the client
join: $(STAMP)
	$(BIN)/easychat join

## test: lint, format check, type check, then the whole test suite
test: $(STAMP)
	$(BIN)/ruff check src tests docs benchmarks
	$(BIN)/ruff format --check src tests docs benchmarks
	$(BIN)/mypy --strict src
	$(BIN)/pytest

fmt: $(STAMP)
	$(BIN)/ruff format src tests docs benchmarks
	$(BIN)/ruff check --fix src tests docs benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

## bench: EasyChat vs ngircd on issue 6's scenarios, a table of medians and ratios (minutes)
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

## bench-client: the client under a flood into #lobby beside irssi, in tmux (a minute; HUGE=1 adds 100,000 lines)
.PHONY: bench-client
bench-client: $(STAMP)
	$(BIN)/python benchmarks/client_bench.py $(if $(HUGE),--huge)
