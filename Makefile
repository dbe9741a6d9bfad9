# The two commands a newcomer needs:
#   make run   install, build the index from the bundled sample corpus on first run, start the web chat
#   make test  install (with test tools and Chromium) and run the whole test suite
.PHONY: run test setup setup-dev lint bench bench-qa fit-reader eval

run: setup
	.venv/bin/python app.py

test: setup-dev
	.venv/bin/python -m pytest -q

setup:
	scripts/setup.sh

setup-dev:
	scripts/setup.sh --dev

lint:
	.venv/bin/ruff check src tests benchmarks app.py
	.venv/bin/ruff format --check src tests benchmarks app.py
	.venv/bin/mypy

bench: setup-dev
	.venv/bin/python benchmarks/run.py

bench-qa: setup-dev
	.venv/bin/python benchmarks/qa.py

fit-reader: setup-dev
	.venv/bin/python benchmarks/fit_reader.py

eval:
	.venv/bin/askculture eval ../shared/eval/dev.jsonl
