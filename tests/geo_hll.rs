//! End-to-end checks of GEO and HyperLogLog commands against replies recorded from Redis
//! 7.0.15: scores, coordinate and distance formatting (RESP2 and RESP3), the STORE forms, key
//! extraction, and HLL strings byte for byte (sparse layout, cached cardinality, merges).

mod common;

use common::{bulk, status, Reply, Server};

fn arr(items: Vec<Reply>) -> Reply {
    Reply::Array(Some(items))
}

fn bulks(items: &[&str]) -> Reply {
    arr(items.iter().map(|s| bulk(s)).collect())
}

fn err(s: &str) -> Reply {
    Reply::Error(s.into())
}

const PALERMO: [&str; 2] = ["13.36138933897018433", "38.11555639549629859"];
const CATANIA: [&str; 2] = ["15.08726745843887329", "37.50266842333162032"];

fn sicily(c: &mut common::Client) {
    assert_eq!(
        c.cmd(&[
            "geoadd",
            "Sicily",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania"
        ]),
        Reply::Int(2)
    );
}

#[test]
fn geo_replies_match_redis() {
    let s = Server::start(&[]);
    let mut c = s.client();
    sicily(&mut c);
    assert_eq!(
        c.cmd(&["zrange", "Sicily", "0", "-1", "withscores"]),
        bulks(&["Palermo", "3479099956230698", "Catania", "3479447370796909"])
    );
    assert_eq!(
        c.cmd(&["geopos", "Sicily", "Palermo", "nope"]),
        arr(vec![bulks(&PALERMO), Reply::Array(None)])
    );
    assert_eq!(
        c.cmd(&["geodist", "Sicily", "Palermo", "Catania"]),
        bulk("166274.1516")
    );
    assert_eq!(
        c.cmd(&["geodist", "Sicily", "Palermo", "Catania", "KM"]),
        bulk("166.2742")
    );
    assert_eq!(
        c.cmd(&["geodist", "Sicily", "Palermo", "Palermo"]),
        bulk("0.0000")
    );
    assert_eq!(
        c.cmd(&["geohash", "Sicily", "Palermo", "nope"]),
        arr(vec![bulk("sqc8b49rny0"), Reply::Bulk(None)])
    );
    let withall = c.cmd(&[
        "georadius",
        "Sicily",
        "15",
        "37",
        "200",
        "km",
        "withdist",
        "withcoord",
        "withhash",
        "asc",
    ]);
    assert_eq!(
        withall,
        arr(vec![
            arr(vec![
                bulk("Catania"),
                bulk("56.4413"),
                Reply::Int(3479447370796909),
                bulks(&CATANIA),
            ]),
            arr(vec![
                bulk("Palermo"),
                bulk("190.4424"),
                Reply::Int(3479099956230698),
                bulks(&PALERMO),
            ]),
        ])
    );
    assert_eq!(
        c.cmd(&[
            "geosearch",
            "Sicily",
            "frommember",
            "Palermo",
            "bybox",
            "400",
            "400",
            "km",
            "desc"
        ]),
        bulks(&["Catania", "Palermo"])
    );
    assert_eq!(
        c.cmd(&["georadius", "Sicily", "15", "37", "200", "km", "count", "1"]),
        bulks(&["Catania"])
    );

    // Errors.
    assert_eq!(
        c.cmd(&["geoadd", "Sicily", "0", "86", "x"]),
        err("ERR invalid longitude,latitude pair 0.000000,86.000000")
    );
    assert_eq!(
        c.cmd(&["geoadd", "Sicily", "xx", "nx", "0", "0", "x"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["geodist", "Sicily", "Palermo", "Catania", "yd"]),
        err("ERR unsupported unit provided. please use M, KM, FT, MI")
    );
    assert_eq!(
        c.cmd(&["georadius", "Sicily", "15", "37", "200", "km", "any"]),
        err("ERR the ANY argument requires COUNT argument")
    );
    assert_eq!(
        c.cmd(&["georadiusbymember", "Sicily", "nope", "1", "km"]),
        err("ERR could not decode requested zset member")
    );
    assert_eq!(
        c.cmd(&["GEOSEARCH", "Sicily", "bybox", "1", "1", "km", "asc"]),
        err("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH")
    );
    assert_eq!(
        c.cmd(&[
            "georadius", "Sicily", "15", "37", "200", "km", "store", "d", "withdist"
        ]),
        err("ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
    );
    c.cmd(&["set", "str", "x"]);
    assert_eq!(
        c.cmd(&["geopos", "str", "a"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );

    // RESP3: coordinates are doubles, distances stay bulk strings.
    c.cmd(&["hello", "3"]);
    assert_eq!(
        c.cmd(&["geopos", "Sicily", "Palermo", "nope"]),
        arr(vec![
            arr(vec![
                Reply::Double(PALERMO[0].into()),
                Reply::Double(PALERMO[1].into())
            ]),
            Reply::Null,
        ])
    );
    assert_eq!(
        c.cmd(&["geodist", "Sicily", "Palermo", "Catania"]),
        bulk("166274.1516")
    );
}

#[test]
fn geo_store_forms_and_keys() {
    let s = Server::start(&[]);
    let mut c = s.client();
    sicily(&mut c);
    assert_eq!(
        c.cmd(&[
            "georadius",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "store",
            "dst"
        ]),
        Reply::Int(2)
    );
    assert_eq!(
        c.cmd(&["zrange", "dst", "0", "-1", "withscores"]),
        bulks(&["Palermo", "3479099956230698", "Catania", "3479447370796909"])
    );
    assert_eq!(
        c.cmd(&[
            "georadius",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "storedist",
            "dst2"
        ]),
        Reply::Int(2)
    );
    assert_eq!(
        c.cmd(&["zrange", "dst2", "0", "-1", "withscores"]),
        bulks(&[
            "Catania",
            "56.441257870158204",
            "Palermo",
            "190.44242984775784"
        ])
    );
    // An empty result deletes the destination.
    assert_eq!(
        c.cmd(&[
            "geosearchstore",
            "dst",
            "Sicily",
            "fromlonlat",
            "0",
            "0",
            "byradius",
            "1",
            "km"
        ]),
        Reply::Int(0)
    );
    assert_eq!(c.cmd(&["exists", "dst"]), Reply::Int(0));
    assert_eq!(
        c.cmd(&[
            "command",
            "getkeys",
            "georadius",
            "k",
            "0",
            "0",
            "1",
            "km",
            "store",
            "a",
            "storedist",
            "b"
        ]),
        bulks(&["k", "a", "b"])
    );
    assert_eq!(
        c.cmd(&[
            "command",
            "getkeys",
            "geosearchstore",
            "a",
            "b",
            "frommember",
            "m",
            "bybox",
            "1",
            "1",
            "km"
        ]),
        bulks(&["a", "b"])
    );
    let info = c.cmd(&["command", "info", "georadius", "georadius_ro"]);
    let Reply::Array(Some(cmds)) = info else {
        panic!("{info:?}")
    };
    let flags = |r: &Reply| match r {
        Reply::Array(Some(v)) => v[2].clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        flags(&cmds[0]),
        arr(vec![
            status("write"),
            status("denyoom"),
            status("movablekeys")
        ])
    );
    assert_eq!(flags(&cmds[1]), arr(vec![status("readonly")]));
}

/// `PFADD h a b c` as Redis stores it, with the cache marked stale, then with 3 cached.
const HLL_ABC: &[u8] =
    b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80`\xf3\x80P\xb1\x84K\xfb\x80BZ";
const HLL_ABC_COUNTED: &[u8] =
    b"HYLL\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00`\xf3\x80P\xb1\x84K\xfb\x80BZ";

#[test]
fn hll_bytes_match_redis() {
    let s = Server::start(&[]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["pfadd", "h", "a", "b", "c"]), Reply::Int(1));
    assert_eq!(c.cmd(&["pfadd", "h", "a", "b", "c"]), Reply::Int(0));
    assert_eq!(c.cmd(&["get", "h"]), Reply::Bulk(Some(HLL_ABC.to_vec())));
    assert_eq!(c.cmd(&["pfcount", "h"]), Reply::Int(3));
    assert_eq!(
        c.cmd(&["get", "h"]),
        Reply::Bulk(Some(HLL_ABC_COUNTED.to_vec()))
    );
    assert_eq!(
        c.cmd(&["pfdebug", "decode", "h"]),
        bulk("Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603")
    );
    assert_eq!(c.cmd(&["pfdebug", "encoding", "h"]), status("sparse"));
    assert_eq!(c.cmd(&["object", "encoding", "h"]), bulk("raw"));

    c.cmd(&["pfadd", "h2", "x", "y"]);
    assert_eq!(c.cmd(&["pfmerge", "m", "h", "h2"]), status("OK"));
    assert_eq!(c.cmd(&["pfcount", "m"]), Reply::Int(5));
    assert_eq!(
        c.cmd(&["get", "m"]),
        Reply::Bulk(Some(
            b"HYLL\x01\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00`\xf3\x80P\xb1\x84H\xab\x88CN\x80BP\x84\x08".to_vec()
        ))
    );
    assert_eq!(c.cmd(&["pfcount", "h", "h2", "nokey"]), Reply::Int(5));

    // Dense conversion keeps the registers.
    assert_eq!(c.cmd(&["pfdebug", "todense", "h"]), Reply::Int(1));
    assert_eq!(c.cmd(&["pfdebug", "todense", "h"]), Reply::Int(0));
    assert_eq!(c.cmd(&["strlen", "h"]), Reply::Int(12304));
    assert_eq!(c.cmd(&["pfcount", "h"]), Reply::Int(3));
    let Reply::Array(Some(regs)) = c.cmd(&["pfdebug", "getreg", "h"]) else {
        panic!("getreg")
    };
    assert_eq!(regs.len(), 16384);
    assert_eq!(regs[4274 + 8437], Reply::Int(2));
    assert_eq!(
        c.cmd(&["pfdebug", "decode", "h"]),
        err("ERR HLL encoding is not sparse")
    );
}

#[test]
fn hll_errors() {
    let s = Server::start(&[]);
    let mut c = s.client();
    c.cmd(&["set", "str", "hello"]);
    assert_eq!(
        c.cmd(&["pfadd", "str", "a"]),
        err("WRONGTYPE Key is not a valid HyperLogLog string value.")
    );
    c.cmd(&["lpush", "list", "a"]);
    assert_eq!(
        c.cmd(&["pfcount", "list"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    c.cmd(&["pfadd", "h", "a", "b", "c"]);
    c.cmd(&["append", "h", "hello"]);
    assert_eq!(
        c.cmd(&["pfcount", "h"]),
        err("INVALIDOBJ Corrupted HLL object detected")
    );
    assert_eq!(
        c.cmd(&["pfdebug", "getreg", "nokey"]),
        err("ERR The specified key does not exist")
    );
    assert_eq!(c.cmd(&["pfcount", "nokey"]), Reply::Int(0));
    assert_eq!(c.cmd(&["pfselftest"]), status("OK"));
}
