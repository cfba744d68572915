//! End-to-end checks of the keyspace, string and bitmap commands: RENAME/MOVE/COPY/SWAPDB,
//! OBJECT, SCAN, GETEX, SETRANGE/GETRANGE, INCRBYFLOAT, LCS, and the bit commands.

mod common;

use common::{bulk, status, Reply, Server};

fn int(n: i64) -> Reply {
    Reply::Int(n)
}

#[test]
fn rename_move_copy_swapdb_keep_ttl_and_values() {
    let s = Server::start(&[]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["set", "a", "1", "px", "100000"]), status("OK"));
    assert_eq!(c.cmd(&["rename", "a", "b"]), status("OK"));
    assert!(matches!(c.cmd(&["pttl", "b"]), Reply::Int(t) if t > 90000));
    assert_eq!(
        c.cmd(&["rename", "nokey", "x"]),
        Reply::Error("ERR no such key".into())
    );
    assert_eq!(c.cmd(&["renamenx", "b", "b"]), int(0));
    assert_eq!(c.cmd(&["copy", "b", "c", "db", "1"]), int(1));
    assert_eq!(c.cmd(&["copy", "b", "c", "db", "1"]), int(0));
    assert_eq!(c.cmd(&["move", "b", "1"]), int(1));
    assert_eq!(c.cmd(&["swapdb", "0", "1"]), status("OK"));
    assert_eq!(c.cmd(&["get", "c"]), bulk("1"));
    assert!(matches!(c.cmd(&["pttl", "b"]), Reply::Int(t) if t > 90000));
    assert_eq!(c.cmd(&["object", "encoding", "c"]), bulk("int"));
    assert_eq!(c.cmd(&["object", "refcount", "c"]), int(2147483647));
    assert_eq!(c.cmd(&["object", "encoding", "nokey"]), Reply::Bulk(None));
    assert_eq!(
        c.cmd(&["copy", "c", "c"]),
        Reply::Error("ERR source and destination objects are the same".into())
    );
}

#[test]
fn scan_filters_and_cursor_errors() {
    let s = Server::start(&[]);
    let mut c = s.client();
    for i in 0..50 {
        c.cmd(&["set", &format!("key:{i}"), "v"]);
    }
    let mut cursor = "0".to_string();
    let mut seen = std::collections::HashSet::new();
    loop {
        let Reply::Array(Some(parts)) =
            c.cmd(&["scan", &cursor, "match", "key:1*", "type", "string"])
        else {
            panic!()
        };
        cursor = parts[0].bulk_str();
        if let Reply::Array(Some(keys)) = &parts[1] {
            for k in keys {
                seen.insert(k.bulk_str());
            }
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 11);
    assert_eq!(
        c.cmd(&["scan", "abc"]),
        Reply::Error("ERR invalid cursor".into())
    );
    assert_eq!(
        c.cmd(&["scan", "0", "count", "0"]),
        Reply::Error("ERR syntax error".into())
    );
}

#[test]
fn string_range_float_getex_lcs() {
    let s = Server::start(&[]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["setrange", "k", "3", "abc"]), int(6));
    assert_eq!(c.cmd(&["getrange", "k", "3", "-1"]), bulk("abc"));
    assert_eq!(c.cmd(&["object", "encoding", "k"]), bulk("raw"));
    assert_eq!(c.cmd(&["incrbyfloat", "f", "10.5"]), bulk("10.5"));
    assert_eq!(c.cmd(&["incrbyfloat", "f", "0.1"]), bulk("10.6"));
    assert_eq!(c.cmd(&["getex", "f", "ex", "100"]), bulk("10.6"));
    assert_eq!(c.cmd(&["ttl", "f"]), int(100));
    assert_eq!(c.cmd(&["getex", "f", "persist"]), bulk("10.6"));
    assert_eq!(c.cmd(&["ttl", "f"]), int(-1));
    c.cmd(&["set", "a", "ohmytext"]);
    c.cmd(&["set", "b", "mynewtext"]);
    assert_eq!(c.cmd(&["lcs", "a", "b"]), bulk("mytext"));
    assert_eq!(c.cmd(&["lcs", "a", "b", "len"]), int(6));
}

#[test]
fn bit_commands() {
    let s = Server::start(&[]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["setbit", "b", "7", "1"]), int(0));
    assert_eq!(c.cmd(&["getbit", "b", "7"]), int(1));
    assert_eq!(
        c.cmd(&["setbit", "b", "7", "2"]),
        Reply::Error("ERR bit is not an integer or out of range".into())
    );
    assert_eq!(
        c.cmd(&["setbit", "b", "-1", "1"]),
        Reply::Error("ERR bit offset is not an integer or out of range".into())
    );
    assert_eq!(c.cmd(&["bitpos", "b", "1"]), int(7));
    assert_eq!(c.cmd(&["bitcount", "b"]), int(1));
    c.cmd(&["set", "f", "\u{7f}\u{7f}"]);
    assert_eq!(c.cmd(&["bitpos", "f", "0", "1"]), int(8));
    assert_eq!(c.cmd(&["bitcount", "f", "1", "9", "bit"]), int(8));
    assert_eq!(c.cmd(&["bitop", "not", "g", "f"]), int(2));
    assert_eq!(c.cmd(&["getbit", "g", "0"]), int(1));
    assert_eq!(
        c.cmd(&[
            "bitfield", "bf", "set", "i8", "0", "-100", "overflow", "fail", "incrby", "i8", "0",
            "-100", "get", "u4", "#1"
        ]),
        Reply::Array(Some(vec![int(0), Reply::Bulk(None), int(12)]))
    );
    assert_eq!(
        c.cmd(&["bitfield", "bf", "get", "u64", "0"]),
        Reply::Error("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.".into())
    );
    assert_eq!(
        c.cmd(&["bitfield_ro", "bf", "set", "u8", "0", "1"]),
        Reply::Error("ERR BITFIELD_RO only supports the GET subcommand".into())
    );
}
