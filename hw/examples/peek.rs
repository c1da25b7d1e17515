fn main() {
    print!(
        "{}",
        memento_hw::emit::verilog(memento_hw::emit::Design::ObjectAlloc, &Default::default())
            .unwrap()
    );
}
