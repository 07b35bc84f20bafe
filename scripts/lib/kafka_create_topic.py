#!/usr/bin/env python3
"""Create Kafka topics with one CreateTopics (v2) request, replication factor 1.

Why not `tansu topic create`: it asks for replication factor -1 (broker default),
and tansu 0.6 then answers metadata requests for that topic with
UNKNOWN_TOPIC_OR_PART, so librdkafka clients cannot use it. Topics created with
an explicit factor of 1 work. Standard library only: this runs before the
workspace (and its Kafka client) is built.

usage: kafka_create_topic.py HOST:PORT PARTITIONS TOPIC [TOPIC ...]
Exit 0 when every topic exists afterwards (created now or before).
"""
import socket
import struct
import sys

TOPIC_ALREADY_EXISTS = 36


def string(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def create_topics(addr, partitions, topics):
    host, port = addr.rsplit(":", 1)
    body = struct.pack(">i", len(topics))
    for t in topics:
        body += string(t) + struct.pack(">ihii", partitions, 1, 0, 0)  # no assignments, no configs
    body += struct.pack(">ib", 10_000, 0)  # timeout_ms, validate_only=false
    header = struct.pack(">hhi", 19, 2, 1) + string("daas-stack")  # CreateTopics v2, correlation 1
    frame = header + body
    with socket.create_connection((host, int(port)), timeout=15) as s:
        s.sendall(struct.pack(">i", len(frame)) + frame)
        size = struct.unpack(">i", recv_exact(s, 4))[0]
        resp = recv_exact(s, size)
    # correlation_id, throttle_time_ms, then [name, error_code, error_message]
    pos = 8
    (count,) = struct.unpack_from(">i", resp, pos)
    pos += 4
    failures = []
    for _ in range(count):
        (n,) = struct.unpack_from(">h", resp, pos)
        name = resp[pos + 2 : pos + 2 + n].decode()
        pos += 2 + n
        (code,) = struct.unpack_from(">h", resp, pos)
        pos += 2
        (m,) = struct.unpack_from(">h", resp, pos)
        msg = resp[pos + 2 : pos + 2 + m].decode() if m >= 0 else ""
        pos += 2 + max(m, 0)
        if code not in (0, TOPIC_ALREADY_EXISTS):
            failures.append(f"{name}: error {code} {msg}".strip())
    return failures


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        buf += chunk
    return buf


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    failed = create_topics(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
    if failed:
        sys.exit("; ".join(failed))
