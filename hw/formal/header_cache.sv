// Formal properties of the header cache (hw/src/header_cache.rs), checked by `memento formal`
// with yosys-smtbmc and z3. `DUT names the cache module of the variant under check and `HDC its
// number of entries. The block's own invariants (HdcUniqueTag_A: no arena in two valid entries;
// HdcAgesPermutation_A: recency is one strict total order, so the ages are a permutation) are
// asserted inside the block, under `ifdef FORMAL`, where its state is visible; this wrapper
// checks what its ports promise.
//
// Assumptions (the object allocator's side, hw/src/object_alloc.rs): reset in the first cycle; at
// most one operation a cycle (the block's own hdc_one_op check in simulation); an arena is
// inserted only when it misses (an arena moves between the HOT and the cache, never into both:
// it is removed when popped into the HOT).
//
// A reference model that follows two arenas chosen by the solver (`anyconst`), A and B: whether
// each is held, A's line, which of the two was used last, and how many entries are valid. What
// the assertions say:
// - HdcHitIffHeld_A: a lookup of A hits exactly when A is held (forward and backward: nothing
//   inserted is lost before it is evicted or removed, nothing removed or evicted still hits).
// - HdcLineReadsBack_A: A's lookup returns the line last written for A.
// - HdcUsedInBounds_A, HdcVictimOnlyWhenFull_A: the valid entries never exceed HDC, and an
//   insert has a valid victim to write back exactly when all HDC are valid.
// - HdcVictimHeld_A: a valid victim is an entry that is held (never a removed or stale one).
// - HdcVictimIsLru_A: the victim is never A while B is held and A was used after B: with the
//   solver free to choose A and B, the victim is the least recently used entry.
module header_cache_fpv (
    input clock,
    input rst,
    input [47:0] lk_tag,
    input [343:0] wr_line,
    input upd_en,
    input ins_en,
    input rm_en,
    input clear_all
);
    wire lk_hit, victim_valid;
    wire [343:0] lk_line, victim_line;
    wire [47:0] victim_tag;
    `DUT dut (
        .clock(clock), .rst(rst), .lk_tag(lk_tag), .lk_hit(lk_hit), .lk_line(lk_line),
        .victim_valid(victim_valid), .victim_tag(victim_tag), .victim_line(victim_line),
        .wr_line(wr_line), .upd_en(upd_en), .ins_en(ins_en), .rm_en(rm_en),
        .clear_all(clear_all)
    );

    reg init = 1'b1;
    always @(posedge clock) init <= 1'b0;

    // Environment.
    always @(*) begin
        if (init) assume (rst);
        assume ((upd_en + ins_en + rm_en + clear_all) <= 1);
        if (ins_en) assume (!lk_hit);
    end

    // The reference model.
    (* anyconst *) reg [47:0] a;
    (* anyconst *) reg [47:0] b;
    always @(*) assume (a != b);
    reg held_a = 1'b0;
    reg held_b = 1'b0;
    reg a_last = 1'b0;
    reg [343:0] line_a = 344'd0;
    reg [6:0] used = 7'd0;

    wire touch_a = (ins_en || (upd_en && lk_hit)) && lk_tag == a;
    wire touch_b = (ins_en || (upd_en && lk_hit)) && lk_tag == b;
    wire evicted_a = ins_en && victim_valid && victim_tag == a;
    wire evicted_b = ins_en && victim_valid && victim_tag == b;
    always @(posedge clock) begin
        if (rst || clear_all) begin
            held_a <= 1'b0;
            held_b <= 1'b0;
            used <= 7'd0;
        end else begin
            if (touch_a) begin
                held_a <= 1'b1;
                line_a <= wr_line;
                a_last <= 1'b1;
            end else if (evicted_a || (rm_en && lk_hit && lk_tag == a)) held_a <= 1'b0;
            if (touch_b) begin
                held_b <= 1'b1;
                a_last <= 1'b0;
            end else if (evicted_b || (rm_en && lk_hit && lk_tag == b)) held_b <= 1'b0;
            if (ins_en && !victim_valid) used <= used + 7'd1;
            if (rm_en && lk_hit) used <= used - 7'd1;
        end
    end

    always @(*) begin
        if (!init && !rst) begin
            if (lk_tag == a) HdcHitIffHeld_A: assert (lk_hit == held_a);
            if (lk_tag == a && held_a) HdcLineReadsBack_A: assert (lk_line == line_a);
            HdcUsedInBounds_A: assert (used <= `HDC);
            HdcVictimOnlyWhenFull_A: assert (victim_valid == (used == `HDC));
            if (victim_valid && victim_tag == a) HdcVictimHeld_A: assert (held_a);
            if (victim_valid && held_a && held_b && a_last)
                HdcVictimIsLru_A: assert (victim_tag != a);
        end
    end
endmodule
