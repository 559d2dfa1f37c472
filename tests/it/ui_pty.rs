//! End to end: the real binary in a pseudo-terminal. Opens the lab, navigates to a broken
//! chain, checks the screen shows its code, quits, and checks the terminal was restored
//! (main screen, cursor visible, mouse reporting off).

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const ROWS: u16 = 30;
const COLS: u16 = 110;

/// Whether the terminal answers `ESC [ 6 n` (where is the cursor?).
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum CursorQuery {
    Answered,
    Unanswered,
}

pub(crate) struct Pty {
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _config: tempfile::TempDir,
}

impl Pty {
    fn spawn(args: &[&str]) -> Pty {
        Self::spawn_env(args, &[])
    }

    /// [`Pty::spawn`] with `env` set for the child.
    pub(crate) fn spawn_env(args: &[&str], env: &[(&str, &str)]) -> Pty {
        Self::spawn_program(env!("CARGO_BIN_EXE_kvchain"), args, env)
    }

    /// `program` with `args` in the terminal, with kvchain's test environment (TERM, an empty
    /// config dir, no kubeconfig) and `env`: a shell that then runs kvchain, say.
    pub(crate) fn spawn_program(program: &str, args: &[&str], env: &[(&str, &str)]) -> Pty {
        Self::spawn_in(program, args, env, CursorQuery::Answered)
    }

    /// [`Pty::spawn_program`] in a terminal that answers the cursor position query or not
    /// (some terminals and multiplexers never do, or answer too late).
    pub(crate) fn spawn_in(
        program: &str,
        args: &[&str],
        env: &[(&str, &str)],
        query: CursorQuery,
    ) -> Pty {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let config = tempfile::tempdir().expect("tempdir");
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        // An empty config dir: defaults only, whatever the developer's own config says.
        cmd.env("XDG_CONFIG_HOME", config.path());
        cmd.env("KUBECONFIG", config.path().join("no-kubeconfig"));
        cmd.env_remove("NO_COLOR");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).expect("spawn in the terminal");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let writer: Arc<Mutex<Box<dyn Write + Send>>> =
            Arc::new(Mutex::new(pty.master.take_writer().expect("writer")));
        let parser = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        {
            let (parser, raw, writer) = (parser.clone(), raw.clone(), writer.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                // The query's bytes may come in two reads: the last three are kept.
                let mut tail: Vec<u8> = Vec::new();
                loop {
                    let n = match reader.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let chunk = &buf[..n];
                    tail.extend_from_slice(chunk);
                    // A real terminal answers the cursor position query; so must we, or a
                    // program that asks would wait for it.
                    let queries = tail.windows(4).filter(|w| w == b"\x1b[6n").count();
                    if query == CursorQuery::Answered {
                        for _ in 0..queries {
                            let _ = writer.lock().unwrap().write_all(b"\x1b[1;1R");
                        }
                    }
                    // Three bytes cannot hold a whole query, so none is answered twice.
                    tail.drain(..tail.len().saturating_sub(3));
                    raw.lock().unwrap().extend_from_slice(chunk);
                    parser.lock().unwrap().process(chunk);
                }
            });
        }
        // Keep the master alive as long as the test: dropping it hangs up the child.
        std::mem::forget(pty.master);
        Pty {
            parser,
            raw,
            writer,
            child,
            _config: config,
        }
    }

    /// Whether the terminal shows its alternate screen (a TUI holds it).
    pub(crate) fn alternate_screen(&self) -> bool {
        self.parser.lock().unwrap().screen().alternate_screen()
    }

    pub(crate) fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    pub(crate) fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.process_id().expect("child pid")
    }

    /// How the child ended, waiting up to 20 s.
    pub(crate) fn exit_within_20s(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "still running after 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn send(&self, bytes: &str) {
        let mut w = self.writer.lock().unwrap();
        w.write_all(bytes.as_bytes()).unwrap();
        w.flush().unwrap();
    }
}

fn codes_in(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .match_indices("KVC")
        .filter_map(|(i, _)| text.get(i..i + 6))
        .filter(|c| c[3..].chars().all(|ch| ch.is_ascii_digit()))
        .map(String::from)
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn demo_shows_a_broken_chain_and_restores_the_terminal() {
    // What the diagnosis says about the default lab, without a terminal.
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--lab", "default"])
        .env("NO_COLOR", "1")
        .output()
        .expect("run kvchain check");
    let expected = codes_in(&String::from_utf8_lossy(&check.stdout));

    let mut pty = Pty::spawn(&["demo"]);
    let screen = pty.wait_for("the chains to load", |s| {
        s.contains("Chains ·") && !s.contains("Loading")
    });
    assert!(pty.parser.lock().unwrap().screen().alternate_screen());

    // The first snapshot lands on the first broken pod; its chain strip shows the code.
    let shown = pty.wait_for("a finding code", |s| !codes_in(s).is_empty());
    let code = codes_in(&shown)[0].clone();
    if !expected.is_empty() {
        assert!(
            expected.contains(&code),
            "screen shows {code}, check reports {expected:?}\n{screen}"
        );
    }

    // Navigate there explicitly: filter by the code, go to the last row (a pod), look.
    pty.send(&format!("/{code}\r"));
    pty.wait_for("the filter", |s| s.contains(&format!("/{code}")));
    pty.send("G");
    let s = pty.wait_for("the pod's chain", |s| {
        s.matches(&code).count() >= 2 // tree row and strip/detail
    });
    assert!(s.contains("Detail") || s.contains(" · spc/"), "{s}");

    // Help, then back.
    pty.send("?");
    pty.wait_for("help", |s| s.contains("Keys — esc closes"));
    pty.send("\x1b");
    pty.wait_for("help closed", |s| !s.contains("Keys — esc closes"));

    pty.send("q");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = pty.child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "kvchain did not quit on q");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");
    // Let the reader drain the last bytes.
    std::thread::sleep(Duration::from_millis(200));
    let screen = pty.parser.lock().unwrap();
    let screen = screen.screen();
    assert!(!screen.alternate_screen(), "still on the alternate screen");
    assert!(!screen.hide_cursor(), "cursor still hidden");
    assert_eq!(
        screen.mouse_protocol_mode(),
        vt100::MouseProtocolMode::None,
        "mouse reporting still on"
    );
    let raw = pty.raw.lock().unwrap();
    assert!(
        raw.windows(8).any(|w| w == b"\x1b[?1049l"),
        "never left the alternate screen"
    );
}

/// `kill -INT`, `-HUP` and `-QUIT` end kvchain like `q` does: the terminal is handed back
/// (alternate screen left, cursor shown, mouse reporting off), not left raw.
#[test]
fn terminating_signals_restore_the_terminal() {
    for signal in ["INT", "HUP", "QUIT"] {
        let mut pty = Pty::spawn(&["demo"]);
        pty.wait_for("the chains to load", |s| {
            s.contains("Chains ·") && !s.contains("Loading")
        });
        let pid = pty.child.process_id().expect("child pid");
        let sent = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -{signal} failed");
        let deadline = Instant::now() + Duration::from_secs(20);
        while pty.child.try_wait().expect("wait").is_none() {
            assert!(Instant::now() < deadline, "kvchain ignored SIG{signal}");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(200));
        let raw = pty.raw.lock().unwrap();
        let after_start = raw
            .windows(8)
            .rposition(|w| w == b"\x1b[?1049h")
            .expect("entered the alternate screen");
        let tail = &raw[after_start..];
        let has = |seq: &[u8]| tail.windows(seq.len()).any(|w| w == seq);
        assert!(
            has(b"\x1b[?1049l"),
            "SIG{signal}: alternate screen not left"
        );
        assert!(has(b"\x1b[?25h"), "SIG{signal}: cursor not shown");
        assert!(
            has(b"\x1b[?1000l"),
            "SIG{signal}: mouse reporting not turned off"
        );
        let screen = pty.parser.lock().unwrap();
        assert!(!screen.screen().alternate_screen(), "SIG{signal}");
        assert!(!screen.screen().hide_cursor(), "SIG{signal}");
    }
}

/// No cluster configured (KUBECONFIG names a missing file): the lab opens with a notice that
/// says so and names what was looked for; LAB shows in the status bar until a key.
#[test]
fn falling_back_to_the_lab_is_loud() {
    let mut pty = Pty::spawn(&[]);
    // The whole frame: the pty may be read while a frame is half written.
    let s = pty.wait_for("the fallback notice", |s| {
        s.contains("No cluster configured") && s.contains("Chains ·") && s.contains(" LAB ")
    });
    assert!(s.contains("this is the built-in lab, a simulation"), "{s}");
    assert!(s.contains("KUBECONFIG file"), "{s}");
    assert!(s.contains(" LAB "), "{s}");
    pty.send("x");
    pty.wait_for("the notice dismissed", |s| {
        !s.contains("No cluster configured") && !s.contains(" LAB ")
    });
    pty.send("q");
    let deadline = Instant::now() + Duration::from_secs(20);
    while pty.child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "kvchain did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An API server that accepts TCP and never answers: the first frame says what kvchain is
/// connecting to, and the elapsed time grows; `q` still quits.
#[test]
fn a_silent_api_server_shows_connecting_with_elapsed_time() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s); // accepted, never answered
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: silent\nclusters:\n- name: silent\n  cluster:\n    server: https://127.0.0.1:{port}\n    insecure-skip-tls-verify: true\ncontexts:\n- name: silent\n  context:\n    cluster: silent\n    user: u\nusers:\n- name: u\n  user:\n    token: not-a-secret\n"
        ),
    )
    .unwrap();
    let mut pty = Pty::spawn(&["--kubeconfig", kubeconfig.to_str().unwrap(), "--no-azure"]);
    let want = format!("connecting to https://127.0.0.1:{port}");
    pty.wait_for("the connecting screen", |s| {
        s.contains(&want) && s.contains("(context silent)")
    });
    pty.wait_for("the elapsed time to grow", |s| s.contains(" · 2s"));
    pty.send("q");
    let deadline = Instant::now() + Duration::from_secs(20);
    while pty.child.try_wait().expect("wait").is_none() {
        assert!(
            Instant::now() < deadline,
            "kvchain did not quit while connecting"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
