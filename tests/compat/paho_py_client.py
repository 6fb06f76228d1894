#!/usr/bin/python3
"""Compatibility-matrix client driver for Eclipse Paho Python (Debian python3-paho-mqtt).

Same command line and output as the other drivers (see run_matrix.py, "Client drivers"):
  paho_py_client.py MODE --port P --ca FILE [--cert F --key F] --id ID --user U
                    [--password PW] --version 3|4|5 --topic BASE [--max-qos N]
MODE scenario: prints `RESULT <feature> PASS|FAIL <detail>` for each feature.
MODE will:     connects with a last will on BASE/will, prints CONNECTED, then waits to be killed.
MODE refuse:   connects, prints `REFUSED <code> <library's text>` (or `CONNECTED`).
"""
import argparse
import queue
import ssl
import sys
import threading
import time

import paho.mqtt.client as paho

TIMEOUT = 5.0
PROTOCOLS = {3: paho.MQTTv31, 4: paho.MQTTv311, 5: paho.MQTTv5}


def report(feature, ok, detail=""):
    print(f"RESULT {feature} {'PASS' if ok else 'FAIL'} {detail}".rstrip(), flush=True)


class Driver:
    def __init__(self, args, will=None):
        self.args = args
        self.connack = None
        self.connack_text = ""
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.disconnect_rc = None
        self.granted = queue.Queue()
        self.messages = queue.Queue()
        kwargs = {} if args.version == 5 else {"clean_session": True}
        self.client = paho.Client(client_id=args.id, protocol=PROTOCOLS[args.version], **kwargs)
        ctx = ssl.create_default_context(cafile=args.ca)
        if args.cert:
            ctx.load_cert_chain(args.cert, args.key)
        self.client.tls_set_context(ctx)
        self.client.username_pw_set(args.user, args.password)
        if will:
            self.client.will_set(will[0], will[1], qos=1)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = lambda c, u, m: self.messages.put(m)

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        self.connack = rc.value if hasattr(rc, "value") else rc
        self.connack_text = str(rc) if hasattr(rc, "value") else paho.connack_string(rc)
        self.connected.set()

    def _on_disconnect(self, client, userdata, rc, properties=None):
        self.disconnect_rc = rc.value if hasattr(rc, "value") else rc
        self.disconnected.set()

    def _on_subscribe(self, client, userdata, mid, granted, properties=None):
        self.granted.put([g.value if hasattr(g, "value") else g for g in granted])

    def connect(self):
        """Returns the CONNACK code, or None when the connection ended without one."""
        self.client.connect("127.0.0.1", self.args.port, keepalive=30)
        self.client.loop_start()
        if not self.connected.wait(TIMEOUT):
            return None
        return self.connack

    def subscribe(self, topic, qos):
        self.client.subscribe(topic, qos)
        return self.granted.get(timeout=TIMEOUT)

    def message_on(self, topic):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                m = self.messages.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if m.topic == topic:
                return m
        return None


def scenario(args):
    base = args.topic
    d = Driver(args, will=(base + "/clean-will", b"must-not-arrive"))
    code = d.connect()
    report("connect", code == 0, f"connack={code}")
    if code != 0:
        return
    try:
        granted = d.subscribe(base + "/t/#", 2)
        report("subscribe", granted and granted[0] in (0, 1, 2), f"granted={granted}")
    except queue.Empty:
        report("subscribe", False, "no SUBACK")
    for qos in range(args.max_qos + 1):
        topic = f"{base}/t/q{qos}"
        info = d.client.publish(topic, f"payload-{qos}".encode(), qos=qos)
        info.wait_for_publish(TIMEOUT)
        acked = info.is_published()
        m = d.message_on(topic)
        got = m is not None and m.payload == f"payload-{qos}".encode()
        report(f"qos{qos}", acked and got,
               f"acked={acked} received={got}" + (f" rx_qos={m.qos}" if m else ""))
    info = d.client.publish(base + "/r", b"kept", qos=1, retain=True)
    info.wait_for_publish(TIMEOUT)
    try:
        d.subscribe(base + "/r", 1)
        m = d.message_on(base + "/r")
        report("retained", m is not None and m.retain and m.payload == b"kept",
               f"received={m is not None} retain_flag={m.retain if m else None}")
    except queue.Empty:
        report("retained", False, "no SUBACK")
    d.client.disconnect()
    clean = d.disconnected.wait(TIMEOUT) and d.disconnect_rc == 0
    d.client.loop_stop()
    report("disconnect", clean, f"rc={d.disconnect_rc}")


def will(args):
    d = Driver(args, will=(args.topic + "/will", f"will-{args.id}".encode()))
    code = d.connect()
    print("CONNECTED" if code == 0 else f"REFUSED {code} {d.connack_text}", flush=True)
    time.sleep(60)


def refuse(args):
    d = Driver(args)
    code = d.connect()
    if code is None:
        print("NO-CONNACK", flush=True)
    elif code == 0:
        print("CONNECTED", flush=True)
    else:
        print(f"REFUSED {code} {d.connack_text}", flush=True)
    d.client.loop_stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["scenario", "will", "refuse"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--id", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password")
    p.add_argument("--version", type=int, choices=[3, 4, 5], default=4)
    p.add_argument("--topic", required=True)
    p.add_argument("--max-qos", type=int, choices=[0, 1, 2], default=2)
    args = p.parse_args()
    {"scenario": scenario, "will": will, "refuse": refuse}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
