//! End-to-end checks of hashes and sets: encodings and their conversions, RESP3 shapes,
//! SCAN cursors, propagation-visible effects and a DEBUG RELOAD round trip.

mod common;

use common::{bulk, status, Reply, Server};

fn encoding(c: &mut common::Client, key: &str) -> String {
    c.cmd(&["object", "encoding", key]).bulk_str()
}

#[test]
fn hash_encodings_and_replies() {
    let s = Server::start(&[
        "--hash-max-listpack-entries",
        "4",
        "--hash-max-listpack-value",
        "8",
    ]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["hset", "h", "a", "1", "b", "2"]), Reply::Int(2));
    assert_eq!(encoding(&mut c, "h"), "listpack");
    assert_eq!(c.cmd(&["hincrbyfloat", "h", "a", "0.5"]), bulk("1.5"));
    assert_eq!(c.cmd(&["hincrby", "h", "b", "-3"]), Reply::Int(-1));
    assert_eq!(c.cmd(&["hset", "h", "c", "123456789"]), Reply::Int(1));
    assert_eq!(encoding(&mut c, "h"), "hashtable");
    assert_eq!(c.cmd(&["hget", "h", "c"]), bulk("123456789"));
    assert_eq!(c.cmd(&["hdel", "h", "a", "b", "c", "zz"]), Reply::Int(3));
    assert_eq!(c.cmd(&["exists", "h"]), Reply::Int(0));
    assert_eq!(
        c.cmd(&["hincrbyfloat", "h", "f", "+inf"]),
        Reply::Error("ERR value is NaN or Infinity".into())
    );
    c.cmd(&["hello", "3"]);
    c.cmd(&["hset", "m", "k", "v"]);
    assert!(matches!(c.cmd(&["hgetall", "m"]), Reply::Map(m) if m.len() == 1));
    match c.cmd(&["hrandfield", "m", "-3", "withvalues"]) {
        Reply::Array(Some(items)) => {
            assert_eq!(items.len(), 3);
            assert!(items
                .iter()
                .all(|i| matches!(i, Reply::Array(Some(p)) if p.len() == 2)));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn set_encodings_and_algebra() {
    let s = Server::start(&["--set-max-intset-entries", "3"]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["sadd", "a", "1", "2", "3"]), Reply::Int(3));
    assert_eq!(encoding(&mut c, "a"), "intset");
    assert_eq!(c.cmd(&["sadd", "a", "4"]), Reply::Int(1));
    assert_eq!(encoding(&mut c, "a"), "hashtable");
    c.cmd(&["sadd", "b", "3", "4", "x"]);
    assert_eq!(c.cmd(&["sinterstore", "i", "a", "b"]), Reply::Int(2));
    // The intersection holds only integers: it is stored as an intset.
    assert_eq!(encoding(&mut c, "i"), "intset");
    assert_eq!(
        c.cmd(&["sintercard", "2", "a", "b", "limit", "1"]),
        Reply::Int(1)
    );
    assert_eq!(c.cmd(&["sdiffstore", "d", "a", "b"]), Reply::Int(2));
    assert_eq!(c.cmd(&["sunionstore", "u", "a", "b"]), Reply::Int(5));
    assert_eq!(c.cmd(&["sinterstore", "u", "a", "nosuch"]), Reply::Int(0));
    assert_eq!(c.cmd(&["exists", "u"]), Reply::Int(0));
    assert_eq!(c.cmd(&["smove", "b", "a", "x"]), Reply::Int(1));
    assert_eq!(c.cmd(&["sismember", "a", "x"]), Reply::Int(1));
    match c.cmd(&["spop", "a", "10"]) {
        Reply::Array(Some(items)) => assert_eq!(items.len(), 5),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(c.cmd(&["exists", "a"]), Reply::Int(0));
    assert_eq!(
        c.cmd(&["srandmember", "b", "-9223372036854775808"]),
        Reply::Error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807".into())
    );
}

#[test]
fn scan_cursors_and_reload() {
    let s = Server::start(&["--enable-debug-command", "yes"]);
    let mut c = s.client();
    let mut args = vec!["sadd".to_string(), "big".to_string()];
    args.extend((0..1000).map(|i| format!("m{i}")));
    let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    assert_eq!(c.cmd(&refs), Reply::Int(1000));
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let Reply::Array(Some(parts)) = c.cmd(&["sscan", "big", &cursor, "count", "50"]) else {
            panic!("bad sscan reply")
        };
        cursor = parts[0].bulk_str();
        if let Reply::Array(Some(items)) = &parts[1] {
            seen.extend(items.iter().map(|i| i.bulk_str()));
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 1000);
    assert_eq!(
        c.cmd(&["sscan", "big", "x"]),
        Reply::Error("ERR invalid cursor".into())
    );
    c.cmd(&["hset", "h", "f1", "v1", "f2", "v2"]);
    match c.cmd(&["hscan", "h", "0", "match", "f1"]) {
        Reply::Array(Some(parts)) => {
            assert_eq!(parts[0], bulk("0"));
            assert_eq!(parts[1], Reply::Array(Some(vec![bulk("f1"), bulk("v1")])));
        }
        other => panic!("unexpected {other:?}"),
    }
    let before = c.cmd(&["debug", "digest"]);
    assert_eq!(c.cmd(&["debug", "reload"]), status("OK"));
    assert_eq!(c.cmd(&["debug", "digest"]), before);
    assert_eq!(encoding(&mut c, "big"), "hashtable");
    assert_eq!(encoding(&mut c, "h"), "listpack");
}
