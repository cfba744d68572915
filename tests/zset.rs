//! End-to-end checks of sorted sets: encodings and their conversion, ranges, RESP3 doubles,
//! and persistence through DEBUG RELOAD.

mod common;

use common::{bulk, Reply, Server};

fn arr(items: &[&str]) -> Reply {
    Reply::Array(Some(items.iter().map(|s| bulk(s)).collect()))
}

#[test]
fn zadd_ranges_and_encodings() {
    let s = Server::start(&[]);
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["zadd", "z", "1", "a", "2", "b", "1.5", "c", "-0", "d"]),
        Reply::Int(4)
    );
    assert_eq!(c.cmd(&["object", "encoding", "z"]), bulk("listpack"));
    assert_eq!(
        c.cmd(&["zrange", "z", "0", "-1", "withscores"]),
        arr(&["d", "0", "a", "1", "c", "1.5", "b", "2"])
    );
    assert_eq!(
        c.cmd(&["zrange", "z", "+inf", "(1", "byscore", "rev", "limit", "0", "1"]),
        arr(&["b"])
    );
    assert_eq!(
        c.cmd(&["zadd", "z", "nx", "xx", "1", "a"]),
        Reply::Error("ERR XX and NX options at the same time are not compatible".into())
    );
    assert_eq!(c.cmd(&["zincrby", "z", "+inf", "a"]), bulk("inf"));
    assert_eq!(
        c.cmd(&["zincrby", "z", "-inf", "a"]),
        Reply::Error("ERR resulting score is not a number (NaN)".into())
    );
    assert_eq!(
        c.cmd(&["config", "set", "zset-max-listpack-entries", "4"]),
        Reply::Status("OK".into())
    );
    assert_eq!(c.cmd(&["zadd", "z", "3", "e"]), Reply::Int(1));
    assert_eq!(c.cmd(&["object", "encoding", "z"]), bulk("skiplist"));
    assert_eq!(c.cmd(&["zrank", "z", "e"]), Reply::Int(3));
    assert_eq!(
        c.cmd(&["zrangebyscore", "z", "1", "2", "withscores"]),
        arr(&["c", "1.5", "b", "2"])
    );
    c.cmd(&["hello", "3"]);
    assert_eq!(c.cmd(&["zscore", "z", "c"]), Reply::Double("1.5".into()));
}

#[test]
fn zset_survives_debug_reload() {
    let s = Server::start(&["--enable-debug-command", "yes"]);
    let mut c = s.client();
    c.cmd(&["zadd", "small", "1", "a", "2.5", "b"]);
    c.cmd(&["config", "set", "zset-max-listpack-entries", "1"]);
    c.cmd(&["zadd", "big", "1", "a", "2", "b", "3", "c"]);
    let before = c.cmd(&["debug", "digest"]);
    assert_eq!(c.cmd(&["debug", "reload"]), Reply::Status("OK".into()));
    assert_eq!(c.cmd(&["debug", "digest"]), before);
    assert_eq!(c.cmd(&["object", "encoding", "big"]), bulk("skiplist"));
    assert_eq!(
        c.cmd(&["zrange", "small", "0", "-1", "withscores"]),
        arr(&["a", "1", "b", "2.5"])
    );
}

#[test]
fn set_operations_take_plain_sets() {
    let s = Server::start(&[]);
    let mut c = s.client();
    c.cmd(&["sadd", "s", "1", "2", "x"]);
    c.cmd(&["zadd", "z", "5", "x", "7", "1"]);
    assert_eq!(
        c.cmd(&["zunion", "2", "s", "z", "weights", "3", "1", "withscores"]),
        arr(&["2", "3", "x", "8", "1", "10"])
    );
    assert_eq!(c.cmd(&["zintercard", "2", "s", "z"]), Reply::Int(2));
    assert_eq!(
        c.cmd(&["zdiff", "2", "s", "z", "withscores"]),
        arr(&["2", "1"])
    );
    assert_eq!(c.cmd(&["zinterstore", "d", "2", "z", "s"]), Reply::Int(2));
    assert_eq!(
        c.cmd(&["zrange", "d", "0", "-1", "withscores"]),
        arr(&["x", "6", "1", "8"])
    );
}

#[test]
fn sort_lists_sets_and_store() {
    let s = Server::start(&[]);
    let mut c = s.client();
    c.cmd(&["rpush", "l", "3", "1", "2"]);
    c.cmd(&["hset", "h_1", "f", "30"]);
    c.cmd(&["hset", "h_2", "f", "20"]);
    c.cmd(&["hset", "h_3", "f", "10"]);
    assert_eq!(
        c.cmd(&["sort", "l", "by", "h_*->f", "get", "#", "get", "h_*->f"]),
        arr(&["3", "10", "2", "20", "1", "30"])
    );
    assert_eq!(c.cmd(&["sort", "l", "store", "out"]), Reply::Int(3));
    assert_eq!(c.cmd(&["object", "encoding", "out"]), bulk("quicklist"));
    assert_eq!(c.cmd(&["lrange", "out", "0", "-1"]), arr(&["1", "2", "3"]));
    c.cmd(&["sadd", "s", "b", "a", "c"]);
    assert_eq!(
        c.cmd(&["sort", "s", "alpha", "desc"]),
        arr(&["c", "b", "a"])
    );
    assert_eq!(
        c.cmd(&["sort", "s", "by", "nosort", "store", "out"]),
        Reply::Int(3)
    );
    assert_eq!(c.cmd(&["lrange", "out", "0", "-1"]), arr(&["a", "b", "c"]));
    assert_eq!(
        c.cmd(&["sort", "s"]),
        Reply::Error("ERR One or more scores can't be converted into double".into())
    );
    assert_eq!(
        c.cmd(&["sort", "l", "limit", "5", "5", "store", "out"]),
        Reply::Int(0)
    );
    assert_eq!(c.cmd(&["exists", "out"]), Reply::Int(0));
}
