// Formal properties of the main-memory bypass (hw/src/bypass.rs and its table,
// hw/src/bypass_table.rs), checked by `memento formal` with yosys-smtbmc and z3. `DUT names the
// bypass module of the variant under check, `BYPASS its table entries. The table's own
// invariants (BypassTableUniqueFrame_A: no frame in two valid entries; BypassTableRrInRange_A)
// are asserted inside the table, under `ifdef FORMAL`; this wrapper checks the ports.
//
// Assumptions (the page allocator's, the cache's, DRAM's and the record memory's side): reset in
// the first cycle; a map, a dead event and a cache request, once offered, stay offered with the
// same payload until taken; cache requests are line aligned; DRAM answers only a read it took,
// one at a time, and answers a line with what was last written to it (when anything was); the
// metadata port answers only a record read it took, and a read of L's frame's record with what
// was last written to it (zero, the OS's setup, when nothing was). Other frames' records are
// anything.
//
// A reference model that follows one line L chosen by the solver (`anyconst`): the value the
// program must read from it (zeros once its frame is mapped, then what it last wrote; nothing
// promised while its frame is reclaimed), whether it is fresh (mapped, not written since),
// whether its frame is dead, what DRAM holds at L and what the record memory holds for L's frame.
// What the assertions say:
// - BypassReadsLastWrite_A: a read of L returns the value the program must read (the stale-data
//   guarantee of SPEC section 6; a fresh line reads as zeros).
// - BypassFreshNoDramRead_A: while L is fresh no DRAM read of L is issued (the read is answered
//   with zeros, from the table or from the frame's record).
// - BypassDeadWriteDropped_A: while L's frame is dead no DRAM write of L is issued (the
//   writeback is dropped, from the table or the record).
// - BypassRspOnlyForRead_A: a response is given only for a read taken and not yet answered
//   (each read answered once).
// - BypassRspHeld_A, BypassDramReqHeld_A, BypassMetaReqHeld_A: an offered response, DRAM request
//   and metadata request keep their payload until taken.
module bypass_fpv (
    input clock,
    input rst,
    input map_valid,
    input [39:0] map_frame,
    input dead_valid,
    input [39:0] dead_frame,
    input mem_req_valid,
    input mem_req_write,
    input [51:0] mem_req_addr,
    input [511:0] mem_req_wdata,
    input mem_rsp_ready,
    input dram_req_ready,
    input dram_rsp_valid,
    input [511:0] dram_rsp_rdata,
    input meta_req_ready,
    input meta_rsp_valid,
    input [64:0] meta_rsp_rdata
);
    wire meta_req_valid, meta_req_write, meta_rsp_ready;
    wire [39:0] meta_req_frame;
    wire [64:0] meta_req_wdata;
    wire map_ready, dead_ready, mem_req_ready, mem_rsp_valid, dram_req_valid, dram_req_write;
    wire dram_rsp_ready;
    wire [511:0] mem_rsp_rdata, dram_req_wdata;
    wire [51:0] dram_req_addr;
    wire [31:0] cnt_reads_bypassed, cnt_writebacks_dropped, cnt_zero_lines, cnt_dram_reads;
    wire [31:0] cnt_dram_writes;
    `DUT dut (
        .clock(clock), .rst(rst), .map_valid(map_valid), .map_ready(map_ready),
        .map_frame(map_frame), .dead_valid(dead_valid), .dead_ready(dead_ready),
        .dead_frame(dead_frame), .mem_req_valid(mem_req_valid), .mem_req_ready(mem_req_ready),
        .mem_req_write(mem_req_write), .mem_req_addr(mem_req_addr),
        .mem_req_wdata(mem_req_wdata), .mem_rsp_valid(mem_rsp_valid),
        .mem_rsp_ready(mem_rsp_ready), .mem_rsp_rdata(mem_rsp_rdata),
        .dram_req_valid(dram_req_valid), .dram_req_ready(dram_req_ready),
        .dram_req_write(dram_req_write), .dram_req_addr(dram_req_addr),
        .dram_req_wdata(dram_req_wdata), .dram_rsp_valid(dram_rsp_valid),
        .dram_rsp_ready(dram_rsp_ready), .dram_rsp_rdata(dram_rsp_rdata),
        .cnt_reads_bypassed(cnt_reads_bypassed), .cnt_writebacks_dropped(cnt_writebacks_dropped),
        .cnt_zero_lines(cnt_zero_lines), .cnt_dram_reads(cnt_dram_reads),
        .cnt_dram_writes(cnt_dram_writes), .meta_req_valid(meta_req_valid),
        .meta_req_ready(meta_req_ready), .meta_req_write(meta_req_write),
        .meta_req_frame(meta_req_frame), .meta_req_wdata(meta_req_wdata),
        .meta_rsp_valid(meta_rsp_valid), .meta_rsp_ready(meta_rsp_ready),
        .meta_rsp_rdata(meta_rsp_rdata)
    );

    reg init = 1'b1;
    always @(posedge clock) init <= 1'b0;

    (* anyconst *) reg [51:0] l;
    wire [39:0] l_frame = l[51:12];

    wire map = map_valid && map_ready;
    wire dead = dead_valid && dead_ready;
    wire req = mem_req_valid && mem_req_ready;
    wire rsp = mem_rsp_valid && mem_rsp_ready;
    wire dram_req = dram_req_valid && dram_req_ready;
    wire dram_rsp = dram_rsp_valid && dram_rsp_ready;
    wire meta_req = meta_req_valid && meta_req_ready;
    wire meta_rsp = meta_rsp_valid && meta_rsp_ready;

    // What the environment did last cycle, for the holding rules.
    reg map_wait = 1'b0, dead_wait = 1'b0, req_wait = 1'b0;
    reg [39:0] map_frame_q, dead_frame_q;
    reg req_write_q;
    reg [51:0] req_addr_q;
    reg [511:0] req_wdata_q;
    // DRAM at L, and the read DRAM owes.
    reg dram_known = 1'b0;
    reg [511:0] dram_l;
    reg dram_pending = 1'b0;
    reg [51:0] dram_pending_addr;
    // The record memory at L's frame, and the record read it owes.
    reg [64:0] rec_l = 65'd0;
    reg meta_pending = 1'b0;
    reg [39:0] meta_pending_frame;
    always @(posedge clock) begin
        if (meta_req && meta_req_write && meta_req_frame == l_frame) rec_l <= meta_req_wdata;
        if (rst) meta_pending <= 1'b0;
        else if (meta_req && !meta_req_write) begin
            meta_pending <= 1'b1;
            meta_pending_frame <= meta_req_frame;
        end else if (meta_rsp) meta_pending <= 1'b0;
        map_wait <= !rst && map_valid && !map_ready;
        dead_wait <= !rst && dead_valid && !dead_ready;
        req_wait <= !rst && mem_req_valid && !mem_req_ready;
        map_frame_q <= map_frame;
        dead_frame_q <= dead_frame;
        req_write_q <= mem_req_write;
        req_addr_q <= mem_req_addr;
        req_wdata_q <= mem_req_wdata;
        if (dram_req && dram_req_write && dram_req_addr == l) begin
            dram_known <= 1'b1;
            dram_l <= dram_req_wdata;
        end
        if (rst) dram_pending <= 1'b0;
        else if (dram_req && !dram_req_write) begin
            dram_pending <= 1'b1;
            dram_pending_addr <= dram_req_addr;
        end else if (dram_rsp) dram_pending <= 1'b0;
    end

    // Environment.
    always @(*) begin
        if (init) assume (rst);
        assume (l[5:0] == 6'd0);
        assume (mem_req_addr[5:0] == 6'd0);
        if (map_wait) assume (map_valid && map_frame == map_frame_q);
        if (dead_wait) assume (dead_valid && dead_frame == dead_frame_q);
        if (req_wait)
            assume (mem_req_valid && mem_req_write == req_write_q && mem_req_addr == req_addr_q
                && mem_req_wdata == req_wdata_q);
        if (dram_rsp_valid) assume (dram_pending);
        if (dram_rsp_valid && dram_pending_addr == l && dram_known)
            assume (dram_rsp_rdata == dram_l);
        if (meta_rsp_valid) assume (meta_pending);
        if (meta_rsp_valid && meta_pending_frame == l_frame) assume (meta_rsp_rdata == rec_l);
    end

    // The reference model of L.
    reg exp_known = 1'b0;
    reg [511:0] exp_l;
    reg fresh = 1'b0;
    reg is_dead = 1'b0;
    reg rd_pending = 1'b0;
    reg rd_is_l = 1'b0;
    reg rd_known = 1'b0;
    reg [511:0] rd_exp;
    wire l_map = map && map_frame == l_frame;
    wire l_dead = dead && dead_frame == l_frame;
    always @(posedge clock) begin
        if (rst) begin
            exp_known <= 1'b0;
            fresh <= 1'b0;
            is_dead <= 1'b0;
            rd_pending <= 1'b0;
        end else begin
            if (l_map) begin
                exp_known <= 1'b1;
                exp_l <= 512'd0;
                fresh <= 1'b1;
                is_dead <= 1'b0;
            end else if (l_dead) begin
                exp_known <= 1'b0;
                fresh <= 1'b0;
                is_dead <= 1'b1;
            end
            if (req && mem_req_write && mem_req_addr == l) begin
                exp_known <= !is_dead;
                exp_l <= mem_req_wdata;
                fresh <= 1'b0;
            end
            if (req && !mem_req_write) begin
                rd_pending <= 1'b1;
                rd_is_l <= mem_req_addr == l;
                rd_known <= exp_known;
                rd_exp <= exp_l;
            end else if (rsp) rd_pending <= 1'b0;
        end
    end

    reg rsp_wait = 1'b0, dram_wait = 1'b0, meta_wait = 1'b0;
    reg [511:0] rsp_data_q, dram_wdata_q;
    reg [51:0] dram_addr_q;
    reg dram_write_q, meta_write_q;
    reg [39:0] meta_frame_q;
    reg [64:0] meta_wdata_q;
    always @(posedge clock) begin
        meta_wait <= !rst && meta_req_valid && !meta_req_ready;
        meta_write_q <= meta_req_write;
        meta_frame_q <= meta_req_frame;
        meta_wdata_q <= meta_req_wdata;
        rsp_wait <= !rst && mem_rsp_valid && !mem_rsp_ready;
        dram_wait <= !rst && dram_req_valid && !dram_req_ready;
        rsp_data_q <= mem_rsp_rdata;
        dram_wdata_q <= dram_req_wdata;
        dram_addr_q <= dram_req_addr;
        dram_write_q <= dram_req_write;
    end

    always @(*) begin
        if (!init && !rst) begin
            if (mem_rsp_valid && rd_is_l && rd_known)
                BypassReadsLastWrite_A: assert (mem_rsp_rdata == rd_exp);
            if (mem_rsp_valid) BypassRspOnlyForRead_A: assert (rd_pending);
            if (rsp_wait) BypassRspHeld_A: assert (mem_rsp_valid && mem_rsp_rdata == rsp_data_q);
            if (dram_wait)
                BypassDramReqHeld_A: assert (dram_req_valid && dram_req_write == dram_write_q
                    && dram_req_addr == dram_addr_q && dram_req_wdata == dram_wdata_q);
            if (meta_wait)
                BypassMetaReqHeld_A: assert (meta_req_valid && meta_req_write == meta_write_q
                    && meta_req_frame == meta_frame_q
                    && (!meta_req_write || meta_req_wdata == meta_wdata_q));
`ifndef BYPASS_OFF
            if (fresh && dram_req_valid && !dram_req_write)
                BypassFreshNoDramRead_A: assert (dram_req_addr != l);
            if (is_dead && dram_req_valid && dram_req_write)
                BypassDeadWriteDropped_A: assert (dram_req_addr != l);
`endif
        end
    end
endmodule
