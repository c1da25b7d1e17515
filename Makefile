# The verbs of memento-rtl. Generated files go to build/; nothing generated is tracked by git.
SHELL := /bin/bash
CARGO ?= cargo
MEMENTO := target/release/memento
SEEDS ?= 64
CORNER_SEEDS ?= 32
OPS ?= 100000
JOBS ?= $(shell nproc)
TOOLS := verilator yosys iverilog z3 gtkwave g++ make

.PHONY: all deps build verilog lint synth regress test replay bench-latency clean

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

# The main job: emit, verilate (inside the build), run the randomized regressions with random
# stalls on every port and write the reports:
#  - memento_top (object allocator, page allocator, bypass; MMU, cache and DRAM models) with the
#    default parameters, and memento_core (object + page allocator) with the corner-case ones;
#  - object_alloc alone with pipelined back-to-back commands.
regress: verilog
	$(MEMENTO) regress --design memento_top --params default --seeds $(SEEDS) --ops $(OPS) --jobs $(JOBS) --report build/report/regress.json
	$(MEMENTO) regress --design memento_core --params corner --seeds $(CORNER_SEEDS) --ops $(OPS) --jobs $(JOBS) --report build/report/regress-corner.json
	$(MEMENTO) regress --design object_alloc --params default --seeds $(SEEDS) --ops $(OPS) --jobs $(JOBS) --report build/report/regress-object-alloc.json

test: deps
	$(CARGO) test --release --workspace
	$(MAKE) lint

replay: build
	@for t in traces/*.rep.gz; do \
	  n=$$(basename $$t .rep.gz); \
	  $(MEMENTO) replay $$t --log build/replay/$$n.log || exit 1; \
	done

clean:
	rm -rf build

# Latency of the object allocator with the header port at 4 cycles (a benchmark, not a test).
bench-latency: build
	$(MEMENTO) latency --commands 1000000 --hdr-latency 4
