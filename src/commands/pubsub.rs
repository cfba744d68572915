//! Pub/Sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, SSUBSCRIBE,
//! SUNSUBSCRIBE, SPUBLISH and PUBSUB introspection; [`publish`] is also what keyspace
//! notifications use. Subscribers are tracked by client slab key.

use std::collections::HashMap;

use bytes::Bytes;

use crate::client::{flags as cf, Client};
use crate::command::{acl, flags::*, keyflags, CmdResult, CommandSpec, Ctx, Group, KeySpec};
use crate::commands::connection::{reply_help, subcommand_syntax_error};
use crate::server::Server;

/// Channel and pattern subscriptions of every client.
#[derive(Debug, Default)]
pub struct PubSub {
    pub channels: HashMap<Bytes, Vec<usize>>,
    pub patterns: Vec<(Bytes, usize)>,
    pub shard_channels: HashMap<Bytes, Vec<usize>>,
}

/// Write a message to subscriber `key`, which may be the executing client.
fn deliver(
    srv: &mut Server,
    current: &mut Option<&mut Client>,
    key: usize,
    f: &dyn Fn(&mut Client),
) {
    if let Some(c) = current.as_deref_mut() {
        if c.key == key {
            if matches!(
                c.reply_mode,
                crate::client::ReplyMode::Off | crate::client::ReplyMode::Skip
            ) {
                let mark = c.reply.buf.len();
                f(c);
                let kept = c.reply.buf[mark..].to_vec();
                c.kept_pushes.extend_from_slice(&kept);
            } else {
                f(c);
            }
            return;
        }
    }
    if let Some(Some(c)) = srv.clients.get_mut(key) {
        if c.has(crate::client::flags::CLOSE_ASAP) {
            return;
        }
        f(c);
        srv.output_appended(key);
    }
}

/// Publish `msg` on `channel`; returns the number of receivers.
pub fn publish(
    srv: &mut Server,
    mut current: Option<&mut Client>,
    channel: &Bytes,
    msg: &[u8],
) -> usize {
    let mut n = 0;
    if let Some(subs) = srv.pubsub.channels.get(channel).cloned() {
        for k in subs {
            deliver(srv, &mut current, k, &|c: &mut Client| {
                c.reply.push_len(3);
                c.reply.bulk(b"message");
                c.reply.bulk(channel);
                c.reply.bulk(msg);
            });
            n += 1;
        }
    }
    if !srv.pubsub.patterns.is_empty() {
        let matches: Vec<(Bytes, usize)> = srv
            .pubsub
            .patterns
            .iter()
            .filter(|(p, _)| crate::util::glob::string_match(p, channel, false))
            .cloned()
            .collect();
        for (p, k) in matches {
            deliver(srv, &mut current, k, &|c: &mut Client| {
                c.reply.push_len(4);
                c.reply.bulk(b"pmessage");
                c.reply.bulk(&p);
                c.reply.bulk(channel);
                c.reply.bulk(msg);
            });
            n += 1;
        }
    }
    n
}

fn update_flag(c: &mut Client) {
    if c.channels.is_empty() && c.patterns.is_empty() && c.shard_channels.is_empty() {
        c.flags &= !cf::PUBSUB;
    } else {
        c.flags |= cf::PUBSUB;
    }
}

fn sub_reply(c: &mut Client, kind: &[u8], ch: Option<&[u8]>, count: usize) {
    c.push(|r| {
        r.push_len(3);
        r.bulk(kind);
        match ch {
            Some(ch) => r.bulk(ch),
            None => r.null(),
        }
        r.int(count as i64);
    });
}

fn subscribe(ctx: &mut Ctx) -> CmdResult {
    for ch in &ctx.argv[1..] {
        if ctx.client.channels.insert(ch.clone()) {
            ctx.srv
                .pubsub
                .channels
                .entry(ch.clone())
                .or_default()
                .push(ctx.client.key);
        }
        let n = ctx.client.subscription_count();
        sub_reply(ctx.client, b"subscribe", Some(ch), n);
    }
    update_flag(ctx.client);
    Ok(())
}

fn unsubscribe_channel(srv: &mut Server, c: &mut Client, ch: &Bytes) -> bool {
    if !c.channels.remove(ch) {
        return false;
    }
    if let Some(v) = srv.pubsub.channels.get_mut(ch) {
        v.retain(|&k| k != c.key);
        if v.is_empty() {
            srv.pubsub.channels.remove(ch);
        }
    }
    true
}

fn unsubscribe(ctx: &mut Ctx) -> CmdResult {
    let chans: Vec<Bytes> = if ctx.argv.len() == 1 {
        ctx.client.channels.iter().cloned().collect()
    } else {
        ctx.argv[1..].to_vec()
    };
    if chans.is_empty() {
        let n = ctx.client.subscription_count();
        sub_reply(ctx.client, b"unsubscribe", None, n);
    }
    for ch in chans {
        unsubscribe_channel(ctx.srv, ctx.client, &ch);
        let n = ctx.client.subscription_count();
        sub_reply(ctx.client, b"unsubscribe", Some(&ch), n);
    }
    update_flag(ctx.client);
    Ok(())
}

fn psubscribe(ctx: &mut Ctx) -> CmdResult {
    for p in &ctx.argv[1..] {
        if !ctx.client.patterns.contains(p) {
            ctx.client.patterns.push(p.clone());
            ctx.srv.pubsub.patterns.push((p.clone(), ctx.client.key));
        }
        let n = ctx.client.subscription_count();
        sub_reply(ctx.client, b"psubscribe", Some(p), n);
    }
    update_flag(ctx.client);
    Ok(())
}

fn punsubscribe_pattern(srv: &mut Server, c: &mut Client, p: &Bytes) {
    if let Some(i) = c.patterns.iter().position(|x| x == p) {
        c.patterns.remove(i);
        let key = c.key;
        srv.pubsub.patterns.retain(|(q, k)| !(q == p && *k == key));
    }
}

fn punsubscribe(ctx: &mut Ctx) -> CmdResult {
    let pats: Vec<Bytes> = if ctx.argv.len() == 1 {
        ctx.client.patterns.clone()
    } else {
        ctx.argv[1..].to_vec()
    };
    if pats.is_empty() {
        let n = ctx.client.subscription_count();
        sub_reply(ctx.client, b"punsubscribe", None, n);
    }
    for p in pats {
        punsubscribe_pattern(ctx.srv, ctx.client, &p);
        let n = ctx.client.subscription_count();
        sub_reply(ctx.client, b"punsubscribe", Some(&p), n);
    }
    update_flag(ctx.client);
    Ok(())
}

fn ssubscribe(ctx: &mut Ctx) -> CmdResult {
    for ch in &ctx.argv[1..] {
        if ctx.client.shard_channels.insert(ch.clone()) {
            ctx.srv
                .pubsub
                .shard_channels
                .entry(ch.clone())
                .or_default()
                .push(ctx.client.key);
        }
        let n = ctx.client.shard_channels.len();
        sub_reply(ctx.client, b"ssubscribe", Some(ch), n);
    }
    update_flag(ctx.client);
    Ok(())
}

fn sunsubscribe_channel(srv: &mut Server, c: &mut Client, ch: &Bytes) {
    if c.shard_channels.remove(ch) {
        if let Some(v) = srv.pubsub.shard_channels.get_mut(ch) {
            v.retain(|&k| k != c.key);
            if v.is_empty() {
                srv.pubsub.shard_channels.remove(ch);
            }
        }
    }
}

fn sunsubscribe(ctx: &mut Ctx) -> CmdResult {
    let chans: Vec<Bytes> = if ctx.argv.len() == 1 {
        ctx.client.shard_channels.iter().cloned().collect()
    } else {
        ctx.argv[1..].to_vec()
    };
    if chans.is_empty() {
        let n = ctx.client.shard_channels.len();
        sub_reply(ctx.client, b"sunsubscribe", None, n);
    }
    for ch in chans {
        sunsubscribe_channel(ctx.srv, ctx.client, &ch);
        let n = ctx.client.shard_channels.len();
        sub_reply(ctx.client, b"sunsubscribe", Some(&ch), n);
    }
    update_flag(ctx.client);
    Ok(())
}

/// Drop every subscription of a client (disconnect, RESET).
pub fn unsubscribe_all(srv: &mut Server, c: &mut Client) {
    let chans: Vec<Bytes> = c.channels.iter().cloned().collect();
    for ch in chans {
        unsubscribe_channel(srv, c, &ch);
    }
    let pats = c.patterns.clone();
    for p in pats {
        punsubscribe_pattern(srv, c, &p);
    }
    let shard: Vec<Bytes> = c.shard_channels.iter().cloned().collect();
    for ch in shard {
        sunsubscribe_channel(srv, c, &ch);
    }
    update_flag(c);
}

fn publish_cmd(ctx: &mut Ctx) -> CmdResult {
    let ch = ctx.argv[1].clone();
    let msg = ctx.argv[2].clone();
    let n = publish(ctx.srv, Some(&mut *ctx.client), &ch, &msg);
    // Messages reach the replicas' subscribers too (forceCommandPropagation).
    if !ctx.srv.config.cluster_enabled {
        ctx.prop.force = true;
    }
    ctx.reply().int(n as i64);
    Ok(())
}

fn spublish(ctx: &mut Ctx) -> CmdResult {
    let ch = ctx.argv[1].clone();
    let msg = ctx.argv[2].clone();
    let subs = ctx
        .srv
        .pubsub
        .shard_channels
        .get(&ch)
        .cloned()
        .unwrap_or_default();
    let mut current = Some(&mut *ctx.client);
    for k in &subs {
        deliver(ctx.srv, &mut current, *k, &|c: &mut Client| {
            c.reply.push_len(3);
            c.reply.bulk(b"smessage");
            c.reply.bulk(&ch);
            c.reply.bulk(&msg);
        });
    }
    if !ctx.srv.config.cluster_enabled {
        ctx.prop.force = true;
    }
    ctx.reply().int(subs.len() as i64);
    Ok(())
}

fn pubsub_channels(ctx: &mut Ctx, shard: bool) -> CmdResult {
    let pat = ctx.argv.get(2).cloned();
    let map = if shard {
        &ctx.srv.pubsub.shard_channels
    } else {
        &ctx.srv.pubsub.channels
    };
    let names: Vec<Bytes> = map
        .keys()
        .filter(|c| {
            pat.as_ref()
                .is_none_or(|p| crate::util::glob::string_match(p, c, false))
        })
        .cloned()
        .collect();
    let r = &mut ctx.client.reply;
    r.array_len(names.len());
    for n in names {
        r.bulk(&n);
    }
    Ok(())
}

fn pubsub_channels_cmd(ctx: &mut Ctx) -> CmdResult {
    pubsub_channels(ctx, false)
}

fn pubsub_shardchannels(ctx: &mut Ctx) -> CmdResult {
    pubsub_channels(ctx, true)
}

fn pubsub_numsub_common(ctx: &mut Ctx, shard: bool) -> CmdResult {
    let map = if shard {
        &ctx.srv.pubsub.shard_channels
    } else {
        &ctx.srv.pubsub.channels
    };
    let r = &mut ctx.client.reply;
    r.map_len(ctx.argv.len() - 2);
    for ch in &ctx.argv[2..] {
        r.bulk(ch);
        r.int(map.get(ch).map(|v| v.len()).unwrap_or(0) as i64);
    }
    Ok(())
}

fn pubsub_numsub(ctx: &mut Ctx) -> CmdResult {
    pubsub_numsub_common(ctx, false)
}

fn pubsub_shardnumsub(ctx: &mut Ctx) -> CmdResult {
    pubsub_numsub_common(ctx, true)
}

fn pubsub_numpat(ctx: &mut Ctx) -> CmdResult {
    let mut pats: Vec<&Bytes> = ctx.srv.pubsub.patterns.iter().map(|(p, _)| p).collect();
    pats.sort();
    pats.dedup();
    let n = pats.len();
    ctx.reply().int(n as i64);
    Ok(())
}

fn pubsub_help(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() != 2 {
        return Err(subcommand_syntax_error(ctx));
    }
    reply_help(
        ctx.reply(),
        "pubsub",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    );
    Ok(())
}

const PS: u64 = acl::PUBSUB;
const SHARD_KEY: &[KeySpec] = &[KeySpec::range(1, -1, 1, keyflags::NOT_KEY)];
const SPUBLISH_KEY: &[KeySpec] = &[KeySpec::one(1, keyflags::NOT_KEY)];

static PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("channels", -2, pubsub_channels_cmd).flags(PUBSUB | LOADING | STALE).group(Group::PubSub).since("2.8.0").doc("Returns the active channels.", "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)").syntax("[pattern:pattern]"),
    CommandSpec::new("help", 2, pubsub_help).flags(LOADING | STALE).group(Group::PubSub).since("6.2.0").doc("Returns helpful text about the different subcommands.", "O(1)"),
    CommandSpec::new("numpat", 2, pubsub_numpat).flags(PUBSUB | LOADING | STALE).group(Group::PubSub).since("2.8.0").doc("Returns a count of unique pattern subscriptions.", "O(1)"),
    CommandSpec::new("numsub", -2, pubsub_numsub).flags(PUBSUB | LOADING | STALE).group(Group::PubSub).since("2.8.0").doc("Returns a count of subscribers to channels.", "O(N) for the NUMSUB subcommand, where N is the number of requested channels").syntax("[channel:string...]"),
    CommandSpec::new("shardchannels", -2, pubsub_shardchannels).flags(PUBSUB | LOADING | STALE).group(Group::PubSub).since("7.0.0").doc("Returns the active shard channels.", "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).").syntax("[pattern:pattern]"),
    CommandSpec::new("shardnumsub", -2, pubsub_shardnumsub).flags(PUBSUB | LOADING | STALE).group(Group::PubSub).since("7.0.0").doc("Returns the count of subscribers of shard channels.", "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels").syntax("[shardchannel:string...]"),
];

/// Pub/Sub commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("subscribe", -2, subscribe).flags(PUBSUB | NOSCRIPT | LOADING | STALE).acl(PS).group(Group::PubSub).since("2.0.0").doc("Listens for messages published to channels.", "O(N) where N is the number of channels to subscribe to.").syntax("channel:string..."),
    CommandSpec::new("unsubscribe", -1, unsubscribe).flags(PUBSUB | NOSCRIPT | LOADING | STALE).acl(PS).group(Group::PubSub).since("2.0.0").doc("Stops listening to messages posted to channels.", "O(N) where N is the number of clients already subscribed to a channel.").syntax("[channel:string...]"),
    CommandSpec::new("psubscribe", -2, psubscribe).flags(PUBSUB | NOSCRIPT | LOADING | STALE).acl(PS).group(Group::PubSub).since("2.0.0").doc("Listens for messages published to channels that match one or more patterns.", "O(N) where N is the number of patterns the client is already subscribed to.").syntax("pattern:pattern..."),
    CommandSpec::new("punsubscribe", -1, punsubscribe).flags(PUBSUB | NOSCRIPT | LOADING | STALE).acl(PS).group(Group::PubSub).since("2.0.0").doc("Stops listening to messages published to channels that match one or more patterns.", "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).").syntax("[pattern:pattern...]"),
    CommandSpec::new("publish", 3, publish_cmd).flags(PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE | SENTINEL).acl(PS).group(Group::PubSub).since("2.0.0").doc("Posts a message to a channel.", "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).").syntax("channel:string message:string"),
    CommandSpec::new("ssubscribe", -2, ssubscribe).flags(PUBSUB | NOSCRIPT | LOADING | STALE).acl(PS).keys(SHARD_KEY).group(Group::PubSub).since("7.0.0").doc("Listens for messages published to shard channels.", "O(N) where N is the number of shard channels to subscribe to.").syntax("shardchannel:string..."),
    CommandSpec::new("sunsubscribe", -1, sunsubscribe).flags(PUBSUB | NOSCRIPT | LOADING | STALE).acl(PS).keys(SHARD_KEY).group(Group::PubSub).since("7.0.0").doc("Stops listening to messages posted to shard channels.", "O(N) where N is the number of clients already subscribed to a shard channel.").syntax("[shardchannel:string...]"),
    CommandSpec::new("spublish", 3, spublish).flags(PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE).acl(PS).keys(SPUBLISH_KEY).group(Group::PubSub).since("7.0.0").doc("Post a message to a shard channel", "O(N) where N is the number of clients subscribed to the receiving shard channel.").syntax("shardchannel:string message:string"),
    CommandSpec::container("pubsub", PUBSUB_SUBCOMMANDS).group(Group::PubSub).since("2.8.0").doc("A container for Pub/Sub commands.", "Depends on subcommand."),
];
