// Formal properties of the page pool's frame stack (hw/src/frame_stack.rs), checked by
// `memento formal` with yosys-smtbmc and z3. `DUT names the stack module of the variant under
// check and `DEPTH its depth (POOL); both are defined by the runner.
//
// Assumptions (the pool's side of the contract): reset in the first cycle; never push and pop in
// one cycle; no push when full, no pop when empty; a frame is not pushed while it is in the
// stack (the pool's own duplicate check, pool_no_duplicate_frame, guards that in simulation).
//
// A reference model that follows one frame, chosen by the solver (`anyconst`): whether it is in
// the stack and at which depth. What the assertions say:
// - FrameStackCountInBounds_A: the count never exceeds DEPTH.
// - FrameStackEmptyTopZero_A: an empty stack shows 0 on top.
// - FrameStackHeldBelowTop_A: a frame in the stack sits below the count (nothing pops it
//   without its turn).
// - FrameStackNoLoss_A: when the followed frame is on top, the top reads it back (it was not
//   lost or overwritten); with the solver free to follow any frame, no frame is lost.
// - FrameStackPushShowsTop_A: the cycle after a push, the top is the frame pushed.
module frame_stack_fpv (
    input clock,
    input rst,
    input push,
    input [39:0] push_frame,
    input pop
);
    wire [39:0] top;
    wire [12:0] count;
    `DUT dut (
        .clock(clock), .rst(rst), .push(push), .push_frame(push_frame), .pop(pop),
        .top(top), .count(count)
    );

    reg init = 1'b1;
    always @(posedge clock) init <= 1'b0;

    (* anyconst *) reg [39:0] followed;
    reg held = 1'b0;
    reg [12:0] at = 13'd0;
    reg pushed = 1'b0;
    reg [39:0] last_pushed = 40'd0;

    // Environment.
    always @(*) begin
        if (init) assume (rst);
        assume (!(push && pop));
        if (!rst && count == `DEPTH) assume (!push);
        if (!rst && count == 13'd0) assume (!pop);
        if (held && push) assume (push_frame != followed);
    end

    // The reference model.
    always @(posedge clock) begin
        pushed <= !rst && push;
        last_pushed <= push_frame;
        if (rst) held <= 1'b0;
        else if (push && push_frame == followed) begin
            held <= 1'b1;
            at <= count;
        end else if (pop && held && count - 13'd1 == at) held <= 1'b0;
    end

    always @(*) begin
        if (!init) begin
            FrameStackCountInBounds_A: assert (count <= `DEPTH);
            FrameStackEmptyTopZero_A: assert (count != 13'd0 || top == 40'd0);
            if (held) FrameStackHeldBelowTop_A: assert (at < count);
            if (held && count - 13'd1 == at) FrameStackNoLoss_A: assert (top == followed);
            if (pushed) FrameStackPushShowsTop_A: assert (top == last_pushed);
        end
    end
endmodule
