//! End-to-end checks of lists and blocked clients: a BLPOP served by a later push, FIFO order
//! of several waiters, a chained BLMOVE, timeouts, CLIENT UNBLOCK, and a list surviving
//! DEBUG RELOAD with compression and PLAIN nodes.

mod common;

use std::time::{Duration, Instant};

use common::{bulk, status, Reply, Server};

fn arr(items: &[&str]) -> Reply {
    Reply::Array(Some(items.iter().map(|s| bulk(s)).collect()))
}

/// Wait until INFO reports `n` blocked clients.
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

#[test]
fn blpop_is_served_in_blocking_order() {
    let s = Server::start(&[]);
    let mut r = s.client();
    let mut a = s.client();
    let mut b = s.client();
    a.send(&[b"blpop", b"l", b"0"]);
    wait_blocked(&mut r, 1);
    b.send(&[b"blmpop", b"0", b"1", b"l", b"left", b"count", b"5"]);
    wait_blocked(&mut r, 2);
    assert_eq!(r.cmd(&["rpush", "l", "x", "y", "z"]), Reply::Int(3));
    assert_eq!(a.read(), arr(&["l", "x"]));
    assert_eq!(
        b.read(),
        Reply::Array(Some(vec![bulk("l"), arr(&["y", "z"])]))
    );
    assert_eq!(r.cmd(&["exists", "l"]), Reply::Int(0));
    // The served client processes its next command normally.
    assert_eq!(a.cmd(&["ping"]), status("PONG"));
}

#[test]
fn chained_blmove_and_timeouts() {
    let s = Server::start(&[]);
    let mut r = s.client();
    let mut a = s.client();
    let mut b = s.client();
    a.send(&[b"blmove", b"l1", b"l2", b"right", b"left", b"0"]);
    wait_blocked(&mut r, 1);
    b.send(&[b"blmove", b"l2", b"l3", b"left", b"right", b"0"]);
    wait_blocked(&mut r, 2);
    r.cmd(&["rpush", "l1", "foo"]);
    assert_eq!(a.read(), bulk("foo"));
    assert_eq!(b.read(), bulk("foo"));
    assert_eq!(r.cmd(&["lrange", "l3", "0", "-1"]), arr(&["foo"]));

    let start = Instant::now();
    assert_eq!(a.cmd(&["blpop", "nothing", "0.05"]), Reply::Array(None));
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(
        a.cmd(&["blpop", "nothing", "-1"]),
        Reply::Error("ERR timeout is negative".into())
    );
    assert_eq!(
        a.cmd(&["blpop", "nothing", "abc"]),
        Reply::Error("ERR timeout is not a float or out of range".into())
    );
}

#[test]
fn client_unblock() {
    let s = Server::start(&[]);
    let mut r = s.client();
    let mut a = s.client();
    let id = match a.cmd(&["client", "id"]) {
        Reply::Int(n) => n.to_string(),
        other => panic!("{other:?}"),
    };
    a.send(&[b"brpop", b"l", b"0"]);
    wait_blocked(&mut r, 1);
    assert_eq!(r.cmd(&["client", "unblock", &id]), Reply::Int(1));
    assert_eq!(a.read(), Reply::Array(None));
    a.send(&[b"brpop", b"l", b"0"]);
    wait_blocked(&mut r, 1);
    assert_eq!(r.cmd(&["client", "unblock", &id, "error"]), Reply::Int(1));
    assert_eq!(
        a.read(),
        Reply::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK".into())
    );
    assert_eq!(r.cmd(&["client", "unblock", &id]), Reply::Int(0));
}

#[test]
fn list_survives_reload_with_compression_and_plain_nodes() {
    let s = Server::start(&[
        "--enable-debug-command",
        "yes",
        "--list-compress-depth",
        "1",
    ]);
    let mut r = s.client();
    let mut expect = Vec::new();
    for i in 0..400 {
        let v = format!("{}{}", "v".repeat(i % 70), i);
        r.cmd(&["rpush", "l", &v]);
        expect.push(v);
    }
    assert_eq!(
        r.cmd(&["debug", "quicklist-packed-threshold", "100b"]),
        status("OK")
    );
    let big = "x".repeat(150);
    r.cmd(&["lset", "l", "200", &big]);
    expect[200] = big;
    assert_eq!(r.cmd(&["debug", "reload"]), status("OK"));
    let want = Reply::Array(Some(expect.iter().map(|s| bulk(s)).collect()));
    assert_eq!(r.cmd(&["lrange", "l", "0", "-1"]), want);
    assert_eq!(
        r.cmd(&["debug", "quicklist-packed-threshold", "0"]),
        status("OK")
    );
}
