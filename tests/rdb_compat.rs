//! RDB compatibility with real Redis 7.0 in both directions: Debian's `redis-server` writes a
//! dump that Redust loads, and Redust writes one that `redis-server` loads; the dataset digest
//! (DEBUG DIGEST) must match on both sides. Needs `/usr/bin/redis-server` (Debian package
//! `redis-server`, installed by .ci/run); fails with a message saying so when it is missing.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, Reply};

const REDIS: &str = "/usr/bin/redis-server";

struct RealRedis {
    child: std::process::Child,
    port: u16,
}

impl Drop for RealRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_real_redis(dir: &std::path::Path) -> RealRedis {
    assert!(
        std::path::Path::new(REDIS).exists(),
        "this test needs Debian's redis-server: apt-get install redis-server"
    );
    let port = free_port();
    let child = Command::new(REDIS)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--enable-debug-command",
            "yes",
            "--daemonize",
            "no",
        ])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-server");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    RealRedis { child, port }
}

fn connect(port: u16) -> common::Client {
    let s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    common::Client::from_stream(s)
}

/// A dataset of every type, in each of its encodings, written through the protocol.
fn populate(c: &mut common::Client) {
    let long = "x".repeat(300);
    let mut cmds: Vec<Vec<String>> = Vec::new();
    // Big collections (hashtable / skiplist / quicklist of several nodes / big intset).
    for i in 0..300 {
        let (n, m) = (i.to_string(), format!("member:{i}"));
        cmds.push(vec!["rpush".into(), "biglist".into(), m.clone()]);
        cmds.push(vec!["hset".into(), "bighash".into(), m.clone(), n.clone()]);
        cmds.push(vec!["sadd".into(), "bigset".into(), m.clone()]);
        cmds.push(vec!["sadd".into(), "bigintset".into(), n.clone()]);
        cmds.push(vec![
            "zadd".into(),
            "bigzset".into(),
            format!("{i}.5"),
            m.clone(),
        ]);
        cmds.push(vec![
            "xadd".into(),
            "stream".into(),
            "*".into(),
            "f".into(),
            n,
        ]);
    }
    let small: Vec<Vec<&str>> = vec![
        vec!["rpush", "list", "a", "b", "1", "-2"],
        vec!["hset", "hash", "f1", "v1", "f2", "2"],
        vec!["sadd", "intset", "1", "2", "3"],
        vec!["sadd", "set", "a", "b", "c"],
        vec!["zadd", "zset", "1", "a", "2.5", "b", "-3", "c"],
        vec!["xgroup", "create", "stream", "g1", "0"],
        vec![
            "xreadgroup",
            "group",
            "g1",
            "alice",
            "count",
            "5",
            "streams",
            "stream",
            ">",
        ],
        vec!["pfadd", "hll", "a", "b", "c"],
        vec!["set", "int", "12345"],
        vec!["set", "neg", "-7"],
        vec!["set", "big", "123456789012345"],
        vec!["set", "str", "hello world"],
        vec!["set", "compressible", &long],
        vec!["set", "ttl", "soon", "px", "1000000"],
        vec!["select", "3"],
        vec!["set", "other-db", "v"],
        vec!["select", "0"],
    ];
    cmds.extend(
        small
            .into_iter()
            .map(|v| v.into_iter().map(String::from).collect()),
    );
    for cmd in cmds {
        let cmd: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let r = c.cmd(&cmd);
        assert!(!matches!(r, Reply::Error(_)), "{:?} -> {:?}", cmd, r);
    }
}

fn digest(c: &mut common::Client) -> String {
    match c.cmd(&["debug", "digest"]) {
        Reply::Status(s) => s,
        r => panic!("DEBUG DIGEST: {:?}", r),
    }
}

#[test]
fn redis_dump_loads_in_redust_and_back() {
    let dir = std::env::temp_dir().join(format!("redust-rdb-compat-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    // Real Redis writes a dump.
    let expected = {
        let redis = start_real_redis(&dir);
        let mut c = connect(redis.port);
        populate(&mut c);
        let d = digest(&mut c);
        assert_eq!(c.cmd(&["save"]), Reply::Status("OK".into()));
        d
    };

    // Redust loads it and sees the same dataset.
    {
        let s = common::Server::start_in(&dir, &["--enable-debug-command", "yes"]);
        let mut c = s.client();
        assert_eq!(digest(&mut c), expected);
        match c.cmd(&["pttl", "ttl"]) {
            Reply::Int(ms) => assert!(ms > 900_000, "{}", ms),
            r => panic!("{:?}", r),
        }
        // Redust writes it back, and Redis's own checker accepts the file.
        std::fs::remove_file(dir.join("dump.rdb")).unwrap();
        assert_eq!(c.cmd(&["save"]), Reply::Status("OK".into()));
        let check = std::process::Command::new("redis-check-rdb")
            .arg(dir.join("dump.rdb"))
            .output()
            .expect("run redis-check-rdb (package redis-tools)");
        let out = String::from_utf8_lossy(&check.stdout);
        assert!(
            check.status.success() && out.contains("RDB looks OK"),
            "redis-check-rdb rejected our dump:\n{out}"
        );
    }

    // Real Redis loads Redust's dump.
    let redis = start_real_redis(&dir);
    let mut c = connect(redis.port);
    assert_eq!(digest(&mut c), expected);
    let _ = std::fs::remove_dir_all(&dir);
}
