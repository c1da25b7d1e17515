// Formal properties of the object allocator (hw/src/object_alloc.rs) at its ports, checked by
// `memento formal` with yosys-smtbmc and z3. `DUT names the allocator module of the variant
// under check. The header cache inside it has its own invariants, asserted in the block under
// `ifdef FORMAL` (HdcUniqueTag_A, HdcAgesPermutation_A), so they are checked here too, in the
// allocator's own use of the cache.
//
// Assumptions (the core's and the memory side's): reset in the first cycle; the config port is
// written only before the first command; a command, once offered, stays offered with the same
// op and argument until taken; the header port answers only reads it took, the page allocator
// only arena requests it took. Header lines read back are otherwise free: the solver chooses
// their bitmaps, counts and states, so the checks hold whatever memory holds.
//
// A reference model: the ops of the commands taken and not yet answered, in order, and for a
// free taken while nothing else was in flight, whether anything was written since. What the
// assertions say:
// - ObjAllocRspOnlyWhenOwed_A: a response is given only while a command is owed one (each
//   command is answered at most once; none is answered that was not given).
// - ObjAllocInFlightBounded_A: at most two commands are in flight (the s1 and execute stages).
// - ObjAllocRspMatchesOp_A: a response has the form of the oldest owed command's answer
//   (ALLOC: OK with a pointer or FALLBACK without; FREE: OK, INVALID or DOUBLE_FREE without a
//   pointer; EXIT: OK; op 3: INVALID), so responses come back in command order.
// - ObjAllocRejectedFreeWritesNothing_A: a free answered INVALID or DOUBLE_FREE wrote no header
//   line, asked for no arena and raised no exit (SPEC: a rejected free changes nothing; that the
//   HOT and the class table are unchanged is what every later answer of the regression checks).
// - ObjAllocRspHeld_A, ObjAllocHdrReqHeld_A, ObjAllocArenaReqHeld_A, ObjAllocExitHeld_A: an
//   offered response or request keeps its payload until taken.
module object_alloc_fpv (
    input clock,
    input rst,
    input cfg_valid,
    input [1:0] cfg_sel,
    input [63:0] cfg_data,
    input cmd_valid,
    input [1:0] cmd_op,
    input [63:0] cmd_arg,
    input rsp_ready,
    input hdr_req_ready,
    input hdr_rsp_valid,
    input [511:0] hdr_rsp_rdata,
    input arena_req_ready,
    input arena_rsp_valid,
    input exit_ready
);
    wire cmd_ready, rsp_valid, hdr_req_valid, hdr_req_write, hdr_rsp_ready;
    wire arena_req_valid, arena_rsp_ready, exit_valid;
    wire [1:0] rsp_status;
    wire [63:0] rsp_ptr;
    wire [47:0] hdr_req_addr, arena_req_va;
    wire [511:0] hdr_req_wdata;
    `DUT dut (
        .clock(clock), .rst(rst), .cfg_valid(cfg_valid), .cfg_sel(cfg_sel),
        .cfg_data(cfg_data), .cmd_valid(cmd_valid), .cmd_ready(cmd_ready), .cmd_op(cmd_op),
        .cmd_arg(cmd_arg), .rsp_valid(rsp_valid), .rsp_ready(rsp_ready),
        .rsp_status(rsp_status), .rsp_ptr(rsp_ptr), .hdr_req_valid(hdr_req_valid),
        .hdr_req_ready(hdr_req_ready), .hdr_req_write(hdr_req_write),
        .hdr_req_addr(hdr_req_addr), .hdr_req_wdata(hdr_req_wdata),
        .hdr_rsp_valid(hdr_rsp_valid), .hdr_rsp_ready(hdr_rsp_ready),
        .hdr_rsp_rdata(hdr_rsp_rdata), .arena_req_valid(arena_req_valid),
        .arena_req_ready(arena_req_ready), .arena_req_va(arena_req_va),
        .arena_rsp_valid(arena_rsp_valid), .arena_rsp_ready(arena_rsp_ready),
        .exit_valid(exit_valid), .exit_ready(exit_ready)
    );

    reg init = 1'b1;
    always @(posedge clock) init <= 1'b0;

    wire accept = cmd_valid && cmd_ready;
    wire answer = rsp_valid && rsp_ready;
    wire hdr_req = hdr_req_valid && hdr_req_ready;
    wire arena_req = arena_req_valid && arena_req_ready;
    wire exit_fire = exit_valid && exit_ready;
    wire writes = (hdr_req && hdr_req_write) || arena_req || exit_fire;

    // The environment's memory of last cycle, and what it owes.
    reg started = 1'b0;
    reg cmd_wait = 1'b0;
    reg [1:0] cmd_op_q;
    reg [63:0] cmd_arg_q;
    reg [1:0] hdr_owed = 2'd0;
    reg arena_owed = 1'b0;
    always @(posedge clock) begin
        cmd_wait <= !rst && cmd_valid && !cmd_ready;
        cmd_op_q <= cmd_op;
        cmd_arg_q <= cmd_arg;
        if (rst) begin
            started <= 1'b0;
            hdr_owed <= 2'd0;
            arena_owed <= 1'b0;
        end else begin
            if (accept) started <= 1'b1;
            hdr_owed <= hdr_owed + (hdr_req && !hdr_req_write) - (hdr_rsp_valid && hdr_rsp_ready);
            if (arena_req) arena_owed <= 1'b1;
            else if (arena_rsp_valid && arena_rsp_ready) arena_owed <= 1'b0;
        end
    end

    always @(*) begin
        if (init) assume (rst);
        if (cfg_valid) assume (!started && !cmd_valid);
        if (cmd_wait) assume (cmd_valid && cmd_op == cmd_op_q && cmd_arg == cmd_arg_q);
        if (hdr_rsp_valid) assume (hdr_owed != 2'd0);
        if (arena_rsp_valid) assume (arena_owed);
    end

    // The reference model: owed commands' ops, oldest first, and the solo free.
    reg [1:0] ops[0:3];
    reg [1:0] head = 2'd0;
    reg [2:0] owed = 3'd0;
    reg solo = 1'b0;
    reg wrote = 1'b0;
    always @(posedge clock) begin
        if (rst) begin
            head <= 2'd0;
            owed <= 3'd0;
            solo <= 1'b0;
        end else begin
            if (accept) ops[head + owed[1:0]] <= cmd_op;
            if (answer) head <= head + 2'd1;
            owed <= owed + accept - answer;
            if (accept && cmd_op == 2'd1 && owed == 3'd0) begin
                solo <= 1'b1;
                wrote <= 1'b0;
            end else begin
                if (accept || answer) solo <= 1'b0;
                if (writes) wrote <= 1'b1;
            end
        end
    end

    wire [1:0] op = ops[head];
    wire rejected = rsp_status == 2'd2 || rsp_status == 2'd3;
    reg form_ok;
    always @(*) begin
        case (op)
            2'd0: form_ok = (rsp_status == 2'd0 && rsp_ptr != 64'd0)
                || (rsp_status == 2'd1 && rsp_ptr == 64'd0);
            2'd1: form_ok = rsp_status != 2'd1 && rsp_ptr == 64'd0;
            2'd2: form_ok = rsp_status == 2'd0 && rsp_ptr == 64'd0;
            default: form_ok = rsp_status == 2'd2 && rsp_ptr == 64'd0;
        endcase
    end

    // Last cycle's offers, for the holding rules.
    reg rsp_wait = 1'b0, hdr_wait = 1'b0, arena_wait = 1'b0, exit_wait = 1'b0;
    reg [1:0] rsp_status_q;
    reg [63:0] rsp_ptr_q;
    reg hdr_write_q;
    reg [47:0] hdr_addr_q, arena_va_q;
    reg [511:0] hdr_wdata_q;
    always @(posedge clock) begin
        rsp_wait <= !rst && rsp_valid && !rsp_ready;
        hdr_wait <= !rst && hdr_req_valid && !hdr_req_ready;
        arena_wait <= !rst && arena_req_valid && !arena_req_ready;
        exit_wait <= !rst && exit_valid && !exit_ready;
        rsp_status_q <= rsp_status;
        rsp_ptr_q <= rsp_ptr;
        hdr_write_q <= hdr_req_write;
        hdr_addr_q <= hdr_req_addr;
        hdr_wdata_q <= hdr_req_wdata;
        arena_va_q <= arena_req_va;
    end

    always @(*) begin
        if (!init && !rst) begin
            if (rsp_valid) ObjAllocRspOnlyWhenOwed_A: assert (owed != 3'd0);
            ObjAllocInFlightBounded_A: assert (owed <= 3'd2);
            if (rsp_valid && owed != 3'd0) ObjAllocRspMatchesOp_A: assert (form_ok);
            if (answer && solo && op == 2'd1 && rejected)
                ObjAllocRejectedFreeWritesNothing_A: assert (!wrote && !writes);
            if (rsp_wait)
                ObjAllocRspHeld_A: assert (rsp_valid && rsp_status == rsp_status_q
                    && rsp_ptr == rsp_ptr_q);
            if (hdr_wait)
                ObjAllocHdrReqHeld_A: assert (hdr_req_valid && hdr_req_write == hdr_write_q
                    && hdr_req_addr == hdr_addr_q && hdr_req_wdata == hdr_wdata_q);
            if (arena_wait) ObjAllocArenaReqHeld_A: assert (arena_req_valid
                && arena_req_va == arena_va_q);
            if (exit_wait) ObjAllocExitHeld_A: assert (exit_valid);
        end
    end
endmodule
