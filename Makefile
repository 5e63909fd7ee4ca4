# 红色信箱 — the two commands. Everything they need is installed by scripts/setup.sh.
.PHONY: run test setup bench

run:
	scripts/run.sh

test:
	scripts/test.sh

setup:
	scripts/setup.sh

bench:
	scripts/setup.sh
	scripts/bench-tools.sh
	.venv/bin/python -m bench
