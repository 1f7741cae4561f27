// The kernel witness: tells user space, per connection, what the server's kernel did during a handshake —
// a dropped TCP packet and the kernel's reason, each SYN-ACK re-send, each RST sent or received — for one
// network namespace. CO-RE: the structs below name only the fields read; libbpf moves their offsets to the
// running kernel's layout (from /sys/kernel/btf/vmlinux), so no vmlinux.h, kernel headers or bpftool are needed.
// Built by src/Halfway/Native/bpf/build.sh (clang -target bpf); loaded by Native/Bpf.cs through libbpf.so.1.

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u32 __be32;

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define CORE __attribute__((preserve_access_index))

// Helper numbers are the kernel's stable UAPI (include/uapi/linux/bpf.h), unlike the structs below.
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)5;
static long (*bpf_probe_read_kernel)(void *dst, __u32 size, const void *unsafe_ptr) = (void *)113;
static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)131;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;

struct in6_addr { __u8 s6_addr[16]; } CORE;
struct ns_common { unsigned int inum; } CORE;
struct net { struct ns_common ns; } CORE;
typedef struct { struct net *net; } possible_net_t;
struct net_device { possible_net_t nd_net; } CORE;
struct sock_common {
    __be32 skc_daddr;
    __be32 skc_rcv_saddr;
    __be16 skc_dport;
    __u16 skc_num;
    unsigned short skc_family;
    volatile unsigned char skc_state;
    possible_net_t skc_net;
    struct in6_addr skc_v6_daddr;
    struct in6_addr skc_v6_rcv_saddr;
} CORE;
struct sock {
    struct sock_common __sk_common;
    __u32 sk_ack_backlog;
    __u32 sk_max_ack_backlog;
} CORE;
struct request_sock { struct sock_common __req_common; } CORE;
struct sk_buff {
    unsigned char *head;
    __u16 transport_header;
    __u16 network_header;
    __be16 protocol;
    struct net_device *dev;
} CORE;

// The record user space reads (Native/WitnessEventLayout.cs mirrors it; keep both in step).
struct witness_event {
    __u64 at_ns;            // bpf_ktime_get_ns: CLOCK_MONOTONIC, the clock .NET's Stopwatch reads
    __u32 kind;             // 1 drop, 2 SYN-ACK re-sent, 3 RST sent, 4 RST received
    __u32 reason;           // enum skb_drop_reason (drop) or enum sk_rst_reason (RST sent); names come from BTF
    __u32 netns;            // inode of the network namespace
    __u16 family;           // 2 (IPv4) or 10 (IPv6)
    __u8 tcp_flags;         // of the dropped packet, or of the packet that drew a RST
    __u8 has_listener;      // a drop whose rx_sk is a listener: the listener's fields below are set
    __u8 local_addr[16];    // the kernel's own end (for a dropped packet: its destination)
    __u8 remote_addr[16];   // the peer (for a dropped packet: its source)
    __u16 local_port;       // host order
    __u16 remote_port;
    __u32 seq;              // of the dropped packet (host order)
    __u32 ack;
    __u32 ack_backlog;      // the listener's accept queue: length and limit when the packet was dropped
    __u32 max_ack_backlog;
    __u8 listener_addr[16];
    __u16 listener_port;
    __u16 pad;
};

enum { KIND_DROP = 1, KIND_SYNACK = 2, KIND_RST_SENT = 3, KIND_RST_RECEIVED = 4 };

// netns: 0 = every namespace, otherwise only this inode. listener_drops_only: only drops whose rx_sk is a listener
// (watch counts nothing else; a storm of RSTs or re-sent SYN-ACKs then costs it no event).
struct witness_config { __u32 netns; __u32 listener_drops_only; };

struct {
    __uint(type, 2 /* BPF_MAP_TYPE_ARRAY */);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct witness_config);
} config SEC(".maps");

// Events the ring buffer had no room for: user space reports the count, never silently less.
struct {
    __uint(type, 2 /* BPF_MAP_TYPE_ARRAY */);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} lost SEC(".maps");

struct {
    __uint(type, 27 /* BPF_MAP_TYPE_RINGBUF */);
    __uint(max_entries, 1 << 20);
} events SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

static __u32 net_inum(struct net *net)
{
    return net ? net->ns.inum : 0;
}

static struct witness_config *settings(void)
{
    __u32 zero = 0;
    return bpf_map_lookup_elem(&config, &zero);
}

static int wanted(__u32 netns)
{
    struct witness_config *c = settings();
    return c && (c->netns == 0 || c->netns == netns);
}

static int listener_drops_only(void)
{
    struct witness_config *c = settings();
    return !c || c->listener_drops_only;
}

static struct witness_event *reserve(__u32 kind, __u32 netns)
{
    struct witness_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e) {
        __u32 zero = 0;
        __u64 *n = bpf_map_lookup_elem(&lost, &zero);
        if (n)
            __sync_fetch_and_add(n, 1);
        return 0;
    }
    __builtin_memset(e, 0, sizeof(*e));
    e->at_ns = bpf_ktime_get_ns();
    e->kind = kind;
    e->netns = netns;
    return e;
}

static void copy16(__u8 *dst, const struct in6_addr *src)
{
    bpf_probe_read_kernel(dst, 16, src);
}

// A socket's own ends: local = the address and port it is bound to, remote = its peer.
static void sock_ends(struct witness_event *e, const struct sock_common *c)
{
    e->family = c->skc_family;
    e->local_port = c->skc_num;
    e->remote_port = __builtin_bswap16(c->skc_dport);
    if (e->family == 10) {
        copy16(e->local_addr, &c->skc_v6_rcv_saddr);
        copy16(e->remote_addr, &c->skc_v6_daddr);
    } else {
        __be32 l = c->skc_rcv_saddr, r = c->skc_daddr;
        __builtin_memcpy(e->local_addr, &l, 4);
        __builtin_memcpy(e->remote_addr, &r, 4);
    }
}

// Reads the IP and TCP headers of a received packet: its source is the peer, its destination this kernel.
// Returns 0 unless it is TCP.
static int packet_ends(struct witness_event *e, const struct sk_buff *skb)
{
    unsigned char *head = skb->head;
    __u16 nh = skb->network_header, th = skb->transport_header;
    __u8 ip[40];
    if (!head || nh == 0xffff || th == 0xffff)
        return 0;
    if (bpf_probe_read_kernel(ip, 20, head + nh))
        return 0;
    __u8 version = ip[0] >> 4;
    if (version == 4) {
        if (ip[9] != 6)
            return 0;
        e->family = 2;
        __builtin_memcpy(e->remote_addr, &ip[12], 4);
        __builtin_memcpy(e->local_addr, &ip[16], 4);
    } else if (version == 6) {
        if (bpf_probe_read_kernel(ip, 40, head + nh))
            return 0;
        if (ip[6] != 6) // extension headers before TCP are rare on a handshake: not followed
            return 0;
        e->family = 10;
        __builtin_memcpy(e->remote_addr, &ip[8], 16);
        __builtin_memcpy(e->local_addr, &ip[24], 16);
    } else {
        return 0;
    }
    __u8 tcp[14];
    if (bpf_probe_read_kernel(tcp, sizeof(tcp), head + th))
        return 0;
    e->remote_port = (tcp[0] << 8) | tcp[1];
    e->local_port = (tcp[2] << 8) | tcp[3];
    e->seq = ((__u32)tcp[4] << 24) | ((__u32)tcp[5] << 16) | ((__u32)tcp[6] << 8) | tcp[7];
    e->ack = ((__u32)tcp[8] << 24) | ((__u32)tcp[9] << 16) | ((__u32)tcp[10] << 8) | tcp[11];
    e->tcp_flags = tcp[13];
    return 1;
}

static int is_tcp(const struct sk_buff *skb)
{
    __be16 proto = skb->protocol;
    unsigned char *head = skb->head;
    __u16 nh = skb->network_header;
    __u8 ip[10];
    if (proto != __builtin_bswap16(0x0800) && proto != __builtin_bswap16(0x86DD))
        return 0;
    if (!head || nh == 0xffff || bpf_probe_read_kernel(ip, sizeof(ip), head + nh))
        return 0;
    return (ip[0] >> 4) == 4 ? ip[9] == 6 : ip[6] == 6;
}

// void trace_kfree_skb(struct sk_buff *skb, void *location, enum skb_drop_reason reason, struct sock *rx_sk) — rx_sk since 6.11.
SEC("tp_btf/kfree_skb")
int witness_kfree_skb(__u64 *ctx)
{
    struct sk_buff *skb = (struct sk_buff *)ctx[0];
    __u32 reason = (__u32)ctx[2];
    struct sock *rx_sk = (struct sock *)ctx[3];
    if (!skb)
        return 0;
    int listening = rx_sk && rx_sk->__sk_common.skc_state == 10 /* TCP_LISTEN */;
    if (!listening && listener_drops_only())
        return 0;
    if (!is_tcp(skb))
        return 0;
    struct net_device *dev = skb->dev;
    __u32 netns = rx_sk ? net_inum(rx_sk->__sk_common.skc_net.net) : dev ? net_inum(dev->nd_net.net) : 0;
    if (!wanted(netns))
        return 0;
    struct witness_event *e = reserve(KIND_DROP, netns);
    if (!e)
        return 0;
    e->reason = reason;
    packet_ends(e, skb);
    // rx_sk is whichever socket the packet was for: only a listener's queue says anything about the handshake.
    if (listening) {
        e->has_listener = 1;
        e->ack_backlog = rx_sk->sk_ack_backlog;
        e->max_ack_backlog = rx_sk->sk_max_ack_backlog;
        e->listener_port = rx_sk->__sk_common.skc_num;
        if (rx_sk->__sk_common.skc_family == 10) {
            copy16(e->listener_addr, &rx_sk->__sk_common.skc_v6_rcv_saddr);
        } else {
            __be32 a = rx_sk->__sk_common.skc_rcv_saddr;
            __builtin_memcpy(e->listener_addr, &a, 4);
        }
    }
    bpf_ringbuf_submit(e, 0);
    return 0;
}

// void trace_tcp_retransmit_synack(const struct sock *sk, const struct request_sock *req)
SEC("tp_btf/tcp_retransmit_synack")
int witness_retransmit_synack(__u64 *ctx)
{
    struct sock *sk = (struct sock *)ctx[0];
    struct request_sock *req = (struct request_sock *)ctx[1];
    if (!req || listener_drops_only())
        return 0;
    __u32 netns = sk ? net_inum(sk->__sk_common.skc_net.net) : net_inum(req->__req_common.skc_net.net);
    if (!wanted(netns))
        return 0;
    struct witness_event *e = reserve(KIND_SYNACK, netns);
    if (!e)
        return 0;
    sock_ends(e, &req->__req_common);
    if (sk) {
        e->ack_backlog = sk->sk_ack_backlog;
        e->max_ack_backlog = sk->sk_max_ack_backlog;
    }
    bpf_ringbuf_submit(e, 0);
    return 0;
}

// void trace_tcp_send_reset(const struct sock *sk, const struct sk_buff *skb, const enum sk_rst_reason reason)
// sk is NULL for a RST that answers a packet no socket owns; skb is NULL for a RST the socket sends on its own.
SEC("tp_btf/tcp_send_reset")
int witness_send_reset(__u64 *ctx)
{
    struct sock *sk = (struct sock *)ctx[0];
    struct sk_buff *skb = (struct sk_buff *)ctx[1];
    __u32 reason = (__u32)ctx[2];
    if (listener_drops_only())
        return 0;
    struct net_device *dev = skb ? skb->dev : 0;
    __u32 netns = sk ? net_inum(sk->__sk_common.skc_net.net) : dev ? net_inum(dev->nd_net.net) : 0;
    if (!wanted(netns))
        return 0;
    struct witness_event *e = reserve(KIND_RST_SENT, netns);
    if (!e)
        return 0;
    e->reason = reason;
    if (!(skb && packet_ends(e, skb)) && sk)
        sock_ends(e, &sk->__sk_common);
    bpf_ringbuf_submit(e, 0);
    return 0;
}

// void trace_tcp_receive_reset(struct sock *sk)
SEC("tp_btf/tcp_receive_reset")
int witness_receive_reset(__u64 *ctx)
{
    struct sock *sk = (struct sock *)ctx[0];
    if (!sk || listener_drops_only())
        return 0;
    __u32 netns = net_inum(sk->__sk_common.skc_net.net);
    if (!wanted(netns))
        return 0;
    struct witness_event *e = reserve(KIND_RST_RECEIVED, netns);
    if (!e)
        return 0;
    sock_ends(e, &sk->__sk_common);
    bpf_ringbuf_submit(e, 0);
    return 0;
}
