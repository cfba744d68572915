//! Shared helpers for integration tests: start the real `redust-server` binary on a free port
//! and talk RESP to it over TCP.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server, killed on drop.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub dir: std::path::PathBuf,
    /// Remove `dir` on drop (a directory `start` created, not one the caller passed).
    owns_dir: bool,
}

/// A free TCP port on localhost, never the same twice in this process.
///
/// Ports come from below the kernel's ephemeral range (32768 and up on Linux), walked from an
/// offset that depends on the process id, so no client socket gets one as its source port. A
/// candidate is free when no socket of any state has it as its local port in /proc/net/tcp*.
/// It is not checked by binding it: a probe socket would be inherited by a server another
/// test thread is spawning at that moment (it lives in the child until exec), and then the
/// next server's readiness probe could connect to it, or the server's listen fail.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 10_000;
    const SPAN: u32 = 22_000; // 10000..32000
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let offset = (std::process::id() % 110) * 200;
    loop {
        let port = (LOW + (offset + NEXT.fetch_add(1, Ordering::Relaxed)) % SPAN) as u16;
        if !local_port_in_use(port) {
            return port;
        }
    }
}

/// Does any TCP socket (IPv4 or IPv6) have `port` as its local port?
fn local_port_in_use(port: u16) -> bool {
    let suffix = format!(":{:04X}", port);
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|f| {
        std::fs::read_to_string(f).is_ok_and(|t| {
            t.lines()
                .skip(1)
                .filter_map(|l| l.split_whitespace().nth(1))
                .any(|local| local.ends_with(&suffix))
        })
    })
}

impl Server {
    /// Start with extra `--directive value` arguments, in a fresh temporary directory.
    pub fn start(args: &[&str]) -> Server {
        let dir = std::env::temp_dir().join(format!(
            "redust-test-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut s = Server::start_in(&dir, args);
        s.owns_dir = true;
        s
    }

    /// Start with `dir` as the working directory (where dump.rdb is read and written).
    pub fn start_in(dir: &std::path::Path, args: &[&str]) -> Server {
        let port = free_port();
        let dir = dir.to_path_buf();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_redust-server"));
        cmd.arg("--port")
            .arg(port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--save")
            .arg("")
            .arg("--dir")
            .arg(&dir)
            .args(args);
        // The server's output goes to a file in its directory, shown when a test fails.
        match std::fs::File::create(dir.join("server-output.log")) {
            Ok(log) => {
                let err = log
                    .try_clone()
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null());
                cmd.stdout(Stdio::from(log)).stderr(err);
            }
            Err(_) => {
                cmd.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        let child = cmd.spawn().expect("spawn redust-server");
        let s = Server {
            child,
            port,
            dir,
            owns_dir: false,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        s
    }

    /// A new client connection.
    pub fn client(&self) -> Client {
        let s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Client {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let status = self.child.try_wait();
            let log =
                std::fs::read_to_string(self.dir.join("server-output.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!(
                "server on port {} (exit status {:?}); last lines of its output:",
                self.port, status
            );
            for l in tail.iter().rev() {
                eprintln!("  {}", l);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A parsed reply, RESP2 or RESP3.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
    Map(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
    Push(Vec<Reply>),
    Double(String),
    Bool(bool),
    Null,
    Verbatim(String),
    BigNum(String),
}

impl Reply {
    /// The bytes of a bulk (panics otherwise).
    pub fn bulk_str(&self) -> String {
        match self {
            Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
            Reply::Verbatim(s) => s.clone(),
            other => panic!("not a bulk: {:?}", other),
        }
    }
}

/// A client connection.
pub struct Client {
    r: BufReader<TcpStream>,
    pub w: TcpStream,
}

impl Client {
    /// A client over an already connected socket.
    pub fn from_stream(s: TcpStream) -> Client {
        Client {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
        }
    }

    /// Send raw bytes.
    pub fn send_raw(&mut self, b: &[u8]) {
        self.w.write_all(b).unwrap();
    }

    /// Send a command as a multibulk.
    pub fn send(&mut self, args: &[&[u8]]) {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.send_raw(&out);
    }

    /// Send a command and read its reply.
    pub fn cmd(&mut self, args: &[&str]) -> Reply {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.send(&a);
        self.read()
    }

    fn line(&mut self) -> String {
        let mut s = String::new();
        self.r.read_line(&mut s).unwrap();
        assert!(s.ends_with("\r\n"), "bad line {:?}", s);
        s.truncate(s.len() - 2);
        s
    }

    fn items(&mut self, n: usize) -> Vec<Reply> {
        (0..n).map(|_| self.read()).collect()
    }

    /// Read one reply.
    pub fn read(&mut self) -> Reply {
        let l = self.line();
        let (t, rest) = l.split_at(1);
        match t {
            "+" => Reply::Status(rest.into()),
            "-" => Reply::Error(rest.into()),
            ":" => Reply::Int(rest.parse().unwrap()),
            "$" | "=" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return Reply::Bulk(None);
                }
                let mut b = vec![0u8; n as usize + 2];
                self.r.read_exact(&mut b).unwrap();
                b.truncate(n as usize);
                if t == "=" {
                    Reply::Verbatim(String::from_utf8_lossy(&b[4..]).into_owned())
                } else {
                    Reply::Bulk(Some(b))
                }
            }
            "*" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    Reply::Array(None)
                } else {
                    Reply::Array(Some(self.items(n as usize)))
                }
            }
            "%" => {
                let n: usize = rest.parse().unwrap();
                Reply::Map((0..n).map(|_| (self.read(), self.read())).collect())
            }
            "~" => {
                let n: usize = rest.parse().unwrap();
                Reply::Set(self.items(n))
            }
            ">" => {
                let n: usize = rest.parse().unwrap();
                Reply::Push(self.items(n))
            }
            "," => Reply::Double(rest.into()),
            "#" => Reply::Bool(rest == "t"),
            "_" => Reply::Null,
            "(" => Reply::BigNum(rest.into()),
            _ => panic!("unknown reply type {:?}", l),
        }
    }
}

/// Shorthand for a bulk reply.
pub fn bulk(s: &str) -> Reply {
    Reply::Bulk(Some(s.as_bytes().to_vec()))
}

/// Shorthand for a status reply.
pub fn status(s: &str) -> Reply {
    Reply::Status(s.into())
}
