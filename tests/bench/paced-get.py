#!/usr/bin/python3
"""Open-loop HTTP GET load: RATE requests per second for SECONDS, each sent
at its scheduled time whatever the earlier ones are doing, over CONNS
keep-alive connections. Latency runs from the scheduled send time to the
last byte of the reply, so a server that falls behind is charged for the
queue it causes (wrk is closed-loop: a slow reply delays the next request
and hides the backlog).

usage: paced-get.py HOST PORT PATH RATE SECONDS [CONNS]
Prints one line: sent=N ok=N errors=N rate=R p50_ms=X p99_ms=Y max_ms=Z
Standard library only (/usr/bin/python3)."""
import asyncio
import sys
import time


async def read_reply(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def connection(host, port, request, queue, latencies, counts):
    reader = writer = None
    while True:
        scheduled = await queue.get()
        if scheduled is None:
            break
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            status = await read_reply(reader)
            latencies.append(time.perf_counter() - scheduled)
            counts["ok" if status == 200 else "errors"] += 1
        except (OSError, asyncio.IncompleteReadError, ValueError):
            counts["errors"] += 1
            if writer is not None:
                writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    rate, seconds = float(sys.argv[4]), float(sys.argv[5])
    conns = int(sys.argv[6]) if len(sys.argv) > 6 else 32
    request = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (path, host, port)).encode()
    queue = asyncio.Queue()
    latencies, counts = [], {"ok": 0, "errors": 0}
    workers = [asyncio.create_task(connection(host, port, request, queue, latencies, counts))
               for _ in range(conns)]
    total = int(rate * seconds)
    start = time.perf_counter()
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(due)
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    took = time.perf_counter() - start
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0

    print("sent=%d ok=%d errors=%d rate=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f" %
          (total, counts["ok"], counts["errors"], total / took, pct(0.50), pct(0.99),
           latencies[-1] * 1000 if latencies else 0))


asyncio.run(main())
