// Formal properties of the page pool (hw/src/page_pool.rs), checked by `memento formal` with
// yosys-smtbmc and z3. `DUT names the pool module of the variant under check and `POOL its size.
//
// Assumptions (the mapper's and the OS's side): reset in the first cycle; the config port idle
// (LOW and HIGH keep their reset values); the mapper takes and gives only while busy, never both in
// one cycle (it is in one state of its walk or of its reclaim at a time), and does
// not become busy while a drain is offered (hw/src/page_pool.rs: an offered drain is never
// withdrawn); a take, a give and a refill, once offered, stay offered (the same frame) until
// accepted; a frame is not refilled or given back while it is in the pool.
//
// A reference model: the frames that went in less those that came out, and one frame chosen by
// the solver (`anyconst`), followed in and out. What the assertions say:
// - PoolCountInBounds_A: the count never exceeds POOL.
// - PoolConservesFrames_A: the count is the frames in less the frames out (nothing lost, nothing
//   made up).
// - PoolFrameLeavesOnce_A: a frame leaves (taken or drained) only while it is in the pool, so no
//   frame is handed out twice; with the solver free to follow any frame, this holds for all.
// - PoolDrainHeld_A, PoolRefillReqHeld_A: an offered drain and a raised refill request keep
//   their values until taken.
module page_pool_fpv (
    input clock,
    input rst,
    input busy,
    input take_valid,
    input give_valid,
    input [39:0] give_frame,
    input refill_req_ready,
    input refill_valid,
    input [39:0] refill_frame,
    input drain_ready
);
    wire take_ready, give_ready, refill_req_valid, refill_ready, drain_valid, starved, refill_fire;
    wire [39:0] take_frame, drain_frame;
    wire [15:0] refill_req_count;
    wire [12:0] count;
    `DUT dut (
        .clock(clock), .rst(rst), .cfg_valid(1'b0), .cfg_sel(2'd0), .cfg_data(64'd0),
        .busy(busy), .take_valid(take_valid), .take_ready(take_ready), .take_frame(take_frame),
        .give_valid(give_valid), .give_ready(give_ready), .give_frame(give_frame),
        .refill_req_valid(refill_req_valid), .refill_req_ready(refill_req_ready),
        .refill_req_count(refill_req_count), .refill_valid(refill_valid),
        .refill_ready(refill_ready), .refill_frame(refill_frame), .drain_valid(drain_valid),
        .drain_ready(drain_ready), .drain_frame(drain_frame), .starved(starved), .count(count),
        .refill_fire(refill_fire)
    );

    wire take = take_valid && take_ready;
    wire give = give_valid && give_ready;
    wire refill = refill_valid && refill_ready;
    wire drain = drain_valid && drain_ready;

    reg init = 1'b1;
    always @(posedge clock) init <= 1'b0;

    (* anyconst *) reg [39:0] followed;
    reg held = 1'b0;
    reg [13:0] balance = 14'd0;
    reg past_busy = 1'b0;
    reg past_drain_wait = 1'b0;
    reg [39:0] past_drain_frame = 40'd0;
    reg past_req_wait = 1'b0;
    reg past_give_wait = 1'b0;
    reg past_take_wait = 1'b0;
    reg past_refill_wait = 1'b0;
    reg [39:0] past_give_frame = 40'd0;
    reg [39:0] past_refill_frame = 40'd0;
    reg [15:0] past_req_count = 16'd0;

    // Environment.
    always @(*) begin
        if (init) assume (rst);
        if (take_valid || give_valid) assume (busy);
        assume (!(take_valid && give_valid));
        if (busy && !past_busy && !init) assume (!past_drain_wait);
        if (past_give_wait) assume (give_valid && give_frame == past_give_frame);
        if (past_take_wait) assume (take_valid);
        if (past_refill_wait) assume (refill_valid && refill_frame == past_refill_frame);
        if (held && give_valid) assume (give_frame != followed);
        if (held && refill_valid) assume (refill_frame != followed);
    end

    // The reference model.
    always @(posedge clock) begin
        past_busy <= busy;
        past_give_wait <= !rst && give_valid && !give_ready;
        past_take_wait <= !rst && take_valid && !take_ready;
        past_refill_wait <= !rst && refill_valid && !refill_ready;
        past_give_frame <= give_frame;
        past_refill_frame <= refill_frame;
        past_drain_wait <= !rst && drain_valid && !drain_ready;
        past_drain_frame <= drain_frame;
        past_req_wait <= !rst && refill_req_valid && !refill_req_ready;
        past_req_count <= refill_req_count;
        if (rst) begin
            held <= 1'b0;
            balance <= 14'd0;
        end else begin
            balance <= balance + refill + give - take - drain;
            if ((give && give_frame == followed) || (refill && refill_frame == followed))
                held <= 1'b1;
            else if ((take && take_frame == followed) || (drain && drain_frame == followed))
                held <= 1'b0;
        end
    end

    always @(*) begin
        if (!init && !rst) begin
            PoolCountInBounds_A: assert (count <= `POOL);
            PoolConservesFrames_A: assert ({1'b0, count} == balance);
            if ((take && take_frame == followed) || (drain && drain_frame == followed))
                PoolFrameLeavesOnce_A: assert (held);
            if (past_drain_wait)
                PoolDrainHeld_A: assert (drain_valid && drain_frame == past_drain_frame);
            if (past_req_wait)
                PoolRefillReqHeld_A: assert (refill_req_valid && refill_req_count == past_req_count);
        end
    end
endmodule
