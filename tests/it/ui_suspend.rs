//! ctrl-z in the TUI, as a user at a shell meets it (README Keys): kvchain hands the terminal
//! back and stops, the shell says so and gives its prompt, `fg` resumes it on the alternate
//! screen with every cell drawn again, and `q` still quits. Raw mode turns ctrl-z into a key,
//! so without handling it the key did nothing.

use std::time::{Duration, Instant};

use crate::ui_pty::{CursorQuery, Pty};

/// The pid of `parent`'s only child.
fn child_of(parent: u32) -> u32 {
    let list = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children"))
        .expect("read the shell's children");
    let kids: Vec<u32> = list
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(kids.len(), 1, "children of the shell: {kids:?}");
    kids[0]
}

/// The state letter of `/proc/PID/stat` (`T` when stopped).
fn state(pid: u32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read stat");
    // The command name is in parentheses and may hold blanks: the state follows the last ')'.
    let after = &stat[stat.rfind(')').expect("stat has a comm") + 2..];
    after.chars().next().expect("stat has a state")
}

fn wait_state(pid: u32, want: impl Fn(char) -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !want(state(pid)) {
        assert!(Instant::now() < deadline, "{what}: state {}", state(pid));
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An interactive shell with job control, as a user's terminal runs kvchain: only then is
/// there someone to resume it (the kernel discards a stop for an orphaned process group).
fn shell_in(terminal: CursorQuery) -> Pty {
    let kvchain = env!("CARGO_BIN_EXE_kvchain");
    Pty::spawn_in(
        "bash",
        &["--norc", "--noprofile", "-i"],
        &[("PS1", "shell$ "), ("KVCHAIN", kvchain)],
        terminal,
    )
}

#[test]
fn ctrl_z_suspends_to_the_shell_and_fg_resumes() {
    suspend_and_resume(shell_in(CursorQuery::Answered));
}

/// The redraw after `fg` once asked the terminal where its cursor was (ratatui's
/// `Terminal::clear`) and, with no answer within crossterm's 2 s, gave up before forgetting
/// the last frame: only the cells that had changed were drawn on the cleared screen, so the
/// tree's title and borders stayed blank until a resize.
#[test]
fn fg_redraws_every_cell_in_a_terminal_that_never_says_where_its_cursor_is() {
    suspend_and_resume(shell_in(CursorQuery::Unanswered));
}

fn suspend_and_resume(mut shell: Pty) {
    shell.wait_for("the prompt", |s| s.contains("shell$"));
    shell.send("\"$KVCHAIN\" demo\r");
    shell.wait_for("the chains to load", |s| {
        s.contains("Chains ·") && !s.contains("Loading")
    });
    assert!(shell.alternate_screen());
    let tui = child_of(shell.pid());

    shell.send("\x1a");
    wait_state(tui, |s| s == 'T', "kvchain did not stop on ctrl-z");
    let stopped = shell.wait_for("the shell to say kvchain stopped", |s| {
        s.contains("Stopped") && s.matches("shell$").count() >= 2
    });
    assert!(
        !shell.alternate_screen(),
        "the terminal was not handed back:\n{stopped}"
    );
    // The shell's own line editing works: raw mode is off and the cursor shows.
    shell.send("echo typed-at-the-shell\r");
    shell.wait_for("the shell to echo", |s| {
        s.lines().any(|l| l.trim() == "typed-at-the-shell")
    });

    shell.send("fg\r");
    wait_state(tui, |s| s != 'T', "fg did not resume kvchain");
    let back = shell.wait_for("the TUI drawn again", |s| {
        s.contains("Chains ·") && !s.contains("typed-at-the-shell")
    });
    assert!(
        shell.alternate_screen(),
        "not on the alternate screen:\n{back}"
    );
    // Keys reach it again, in raw mode: `?` opens the help, which names ctrl-z.
    shell.send("?");
    shell.wait_for("the help", |s| s.contains("ctrl-z suspends (fg resumes)"));
    shell.send("\x1b");
    // Apart, or the terminal reads esc and q as one alt-q.
    shell.wait_for("the help closed", |s| !s.contains("ctrl-z suspends"));
    shell.send("q");
    shell.wait_for("the prompt after quitting", |s| {
        s.contains("shell$") && !s.contains("Chains ·")
    });
    assert!(!shell.alternate_screen());
    shell.send("exit\r");
    assert!(shell.exit_within_20s().success());
}
