//! End-to-end checks of streams: XADD/XRANGE, a consumer group read and its pending list, a
//! blocked XREAD served by XADD, a blocked XREADGROUP failing when its key goes away, and a
//! stream with a group surviving DEBUG RELOAD and DUMP/RESTORE byte for byte.

mod common;

use std::time::{Duration, Instant};

use common::{bulk, status, Reply, Server};

fn wait_blocked(c: &mut common::Client, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let info = c.cmd(&["info", "clients"]).bulk_str();
        if info.contains(&format!("blocked_clients:{n}\r\n")) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never reached {n} blocked clients"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn entry(id: &str, fields: &[&str]) -> Reply {
    Reply::Array(Some(vec![
        bulk(id),
        Reply::Array(Some(fields.iter().map(|f| bulk(f)).collect())),
    ]))
}

#[test]
fn add_range_and_groups() {
    let s = Server::start(&[]);
    let mut r = s.client();
    assert_eq!(r.cmd(&["xadd", "s", "1-1", "a", "1"]), bulk("1-1"));
    assert_eq!(r.cmd(&["xadd", "s", "1-*", "b", "2"]), bulk("1-2"));
    assert!(matches!(
        r.cmd(&["xadd", "s", "1-0", "a", "1"]),
        Reply::Error(_)
    ));
    assert_eq!(
        r.cmd(&["xrange", "s", "-", "+"]),
        Reply::Array(Some(vec![
            entry("1-1", &["a", "1"]),
            entry("1-2", &["b", "2"])
        ]))
    );
    assert_eq!(r.cmd(&["type", "s"]), status("stream"));
    assert_eq!(r.cmd(&["xgroup", "create", "s", "g", "0"]), status("OK"));
    let got = r.cmd(&[
        "xreadgroup",
        "group",
        "g",
        "alice",
        "count",
        "1",
        "streams",
        "s",
        ">",
    ]);
    assert_eq!(
        got,
        Reply::Array(Some(vec![Reply::Array(Some(vec![
            bulk("s"),
            Reply::Array(Some(vec![entry("1-1", &["a", "1"])])),
        ]))]))
    );
    match r.cmd(&["xpending", "s", "g"]) {
        Reply::Array(Some(v)) => assert_eq!(v[0], Reply::Int(1)),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(r.cmd(&["xack", "s", "g", "1-1"]), Reply::Int(1));
}

#[test]
fn blocked_readers() {
    let s = Server::start(&[]);
    let mut r = s.client();
    let mut a = s.client();
    let mut b = s.client();
    r.cmd(&["xadd", "s", "5-0", "f", "v"]);
    r.cmd(&["xgroup", "create", "s", "g", "$"]);
    a.send(&[b"xread", b"block", b"0", b"streams", b"s", b"$"]);
    b.send(&[
        b"xreadgroup",
        b"group",
        b"g",
        b"c",
        b"block",
        b"0",
        b"streams",
        b"s",
        b">",
    ]);
    wait_blocked(&mut r, 2);
    r.cmd(&["xadd", "s", "6-0", "x", "y"]);
    let want = Reply::Array(Some(vec![Reply::Array(Some(vec![
        bulk("s"),
        Reply::Array(Some(vec![entry("6-0", &["x", "y"])])),
    ]))]));
    assert_eq!(a.read(), want);
    assert_eq!(b.read(), want);
    b.send(&[
        b"xreadgroup",
        b"group",
        b"g",
        b"c",
        b"block",
        b"0",
        b"streams",
        b"s",
        b">",
    ]);
    wait_blocked(&mut r, 1);
    r.cmd(&["del", "s"]);
    match b.read() {
        Reply::Error(e) => assert!(e.contains("no longer exists"), "{e}"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn survives_reload_and_restore() {
    let s = Server::start(&["--enable-debug-command", "yes"]);
    let mut r = s.client();
    for i in 1..=250 {
        r.cmd(&["xadd", "s", &format!("{i}-0"), "f", &i.to_string()]);
    }
    r.cmd(&["xdel", "s", "7-0"]);
    r.cmd(&["xgroup", "create", "s", "g", "0"]);
    r.cmd(&[
        "xreadgroup",
        "group",
        "g",
        "alice",
        "count",
        "3",
        "streams",
        "s",
        ">",
    ]);
    let digest = r.cmd(&["debug", "digest-value", "s"]);
    let info = r.cmd(&["xinfo", "stream", "s"]);
    assert_eq!(r.cmd(&["debug", "reload"]), status("OK"));
    assert_eq!(r.cmd(&["debug", "digest-value", "s"]), digest);
    assert_eq!(r.cmd(&["xinfo", "stream", "s"]), info);
    let dump = r.cmd(&["dump", "s"]);
    let Reply::Bulk(Some(payload)) = dump.clone() else {
        panic!("no dump")
    };
    r.send(&[b"restore", b"t", b"0", &payload]);
    assert_eq!(r.read(), status("OK"));
    assert_eq!(r.cmd(&["dump", "t"]), dump);
    assert_eq!(r.cmd(&["xlen", "t"]), Reply::Int(249));
}
