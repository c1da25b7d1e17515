//! `memento capture`'s errors name the input and what was wrong, and leave nothing behind.

use memento_capture::run::{capture, Options};

#[test]
fn a_program_that_does_not_exist_is_named_and_leaves_no_log_folder() {
    let dir = std::env::temp_dir().join(format!("memento-capture-err-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let o = Options {
        command: vec!["/nonexistent/program".into(), "x".into()],
        out: dir.join("p.rep"),
        gzip: false,
        follow_exec: false,
        env: vec![],
        baseline_runs: 0,
        lib_dir: dir.join("lib"),
        keep_raw: false,
        stdout: None,
    };
    let e = match capture(&o, |_| {}) {
        Ok(_) => panic!("a program that does not exist was captured"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        e.contains("cannot run /nonexistent/program x") && e.contains("No such file"),
        "{e}"
    );
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".raw-"))
        .collect();
    assert!(left.is_empty(), "log folders left behind: {left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_empty_command_is_an_error() {
    let o = Options {
        command: vec![],
        out: "build/capture/x.rep".into(),
        gzip: false,
        follow_exec: false,
        env: vec![],
        baseline_runs: 0,
        lib_dir: std::env::temp_dir(),
        keep_raw: false,
        stdout: None,
    };
    let e = capture(&o, |_| {}).err().expect("no command").to_string();
    assert!(e.contains("no command to capture"), "{e}");
}
