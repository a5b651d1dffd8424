# make install: .venv/ with gongkai and every extra (and the Debian packages it uses, when root)
# make run:     install, then check the bundled sample reports and write the audit to out/
# make test:    install (and R, which a test reads the panel with), then the whole test suite, in a random order (pytest-randomly; the seed is printed)
# make fuzz:    install atheris (the fuzz extra), then fuzz for SECONDS (default 600)
VENV   := .venv
PY     := $(VENV)/bin/python
GK     := $(VENV)/bin/gongkai
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test bench fuzz clean

install: $(STAMP)

$(STAMP): pyproject.toml scripts/install-system.sh
	bash scripts/install-system.sh
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[ocr,web,dask,charts,fetch,dev]'
	$(PY) -c "from gongkai.regions import gazetteer; gazetteer()"  # the gazetteer's index, cached once
	touch $(STAMP)

run: install
	@mkdir -p out
	$(GK) check samples/*.* || true
	$(GK) report samples/*.* --html out/audit.html
	$(GK) batch samples --db out/samples.duckdb --redo-stale  # results of an older parser are parsed again
	$(GK) export --db out/samples.duckdb --to out/samples.xlsx
	@echo "审计报告: out/audit.html  表格: out/samples.xlsx  数据库: out/samples.duckdb"

test: install
	bash scripts/install-system.sh --test
	$(PY) -m pytest -q

bench: install
	$(PY) -m benchmarks

# make fuzz SECONDS=3600: the fuzzer on one core at the lowest priority (log in fuzz/run.log)
SECONDS ?= 600
fuzz: install
	$(PY) -m pip install -q --disable-pip-version-check -e '.[fuzz]'
	bash fuzz/run.sh $(SECONDS) > fuzz/run.log 2>&1; tail -3 fuzz/run.log

clean:
	rm -rf $(VENV) out .pytest_cache
