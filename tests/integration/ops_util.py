"""Helpers for the operability tests: a strict parser of the Prometheus text exposition
format (0.0.4), a tiny HTTP client for /metrics /healthz /readyz, and a proxy whose log
format is JSON."""
import http.client
import math
import re
import socket

from harness import Proxy

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class ExpositionError(AssertionError):
    pass


def _parse_value(text, where):
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
        raise ExpositionError(f"{where}: bad value {text!r}")
    return float(text)


def _parse_labels(text, where):
    """Parses the inside of {...}: name="value" pairs, comma separated (a trailing comma is
    allowed by the format), values with only \\\\, \\" and \\n escapes."""
    labels = {}
    i = 0
    while i < len(text):
        m = re.match(r"([^=,\s]*)=", text[i:])
        if not m or not LABEL_NAME.match(m.group(1)):
            raise ExpositionError(f"{where}: bad label name at {text[i:]!r}")
        name = m.group(1)
        if name.startswith("__"):
            raise ExpositionError(f"{where}: reserved label name {name}")
        i += m.end()
        if i >= len(text) or text[i] != '"':
            raise ExpositionError(f"{where}: label {name} value not quoted")
        i += 1
        value = []
        while True:
            if i >= len(text):
                raise ExpositionError(f"{where}: unterminated value of label {name}")
            c = text[i]
            if c == "\\":
                escape = text[i + 1:i + 2]
                if escape not in ("\\", '"', "n"):
                    raise ExpositionError(f"{where}: bad escape \\{escape} in label {name}")
                value.append("\n" if escape == "n" else escape)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise ExpositionError(f"{where}: raw newline in label {name}")
            else:
                value.append(c)
                i += 1
        if name in labels:
            raise ExpositionError(f"{where}: label {name} repeated")
        labels[name] = "".join(value)
        if i < len(text):
            if text[i] != ",":
                raise ExpositionError(f"{where}: expected ',' after label {name}")
            i += 1
    return labels


class Family:
    def __init__(self, name):
        self.name = name
        self.help = None
        self.type = None
        self.samples = []  # (sample name, labels dict, value)


def _family_of(sample_name, families):
    """The declared family a sample belongs to: its own name, or for histograms/summaries
    the name without _bucket/_sum/_count."""
    if sample_name in families:
        return families[sample_name]
    for suffix in ("_bucket", "_sum", "_count"):
        if sample_name.endswith(suffix):
            base = families.get(sample_name[:-len(suffix)])
            if base is not None and base.type in ("histogram", "summary"):
                if suffix == "_bucket" and base.type != "histogram":
                    break
                return base
    return None


def parse_exposition(text):
    """Parses |text| strictly and returns {family name: Family}. Raises ExpositionError on:
    a missing final newline or an empty line; a HELP or TYPE line that is repeated, comes
    after the family's first sample, or names an invalid metric; a sample without both a
    HELP and a TYPE line before it; a family whose samples are not contiguous; a bad metric
    or label name, label syntax or value; a duplicate series; a negative counter; a counter
    family not named *_total; a histogram whose buckets are not increasing in le, not
    cumulative, not ending in +Inf, or whose _count differs from the +Inf bucket or lacks
    _sum."""
    if not text.endswith("\n"):
        raise ExpositionError("output does not end with a newline")
    families = {}
    finished = set()
    current = None
    seen_series = set()
    for number, line in enumerate(text[:-1].split("\n"), start=1):
        where = f"line {number} {line!r}"
        if line == "":
            raise ExpositionError(f"line {number}: empty line")
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not METRIC_NAME.match(name):
                    raise ExpositionError(f"{where}: bad metric name")
                family = families.setdefault(name, Family(name))
                if family.samples or name in finished:
                    raise ExpositionError(f"{where}: {parts[1]} after the family's samples")
                if current is not None and current is not family and current.samples:
                    finished.add(current.name)
                current = family
                if parts[1] == "HELP":
                    if family.help is not None:
                        raise ExpositionError(f"{where}: second HELP")
                    family.help = parts[3] if len(parts) > 3 else ""
                else:
                    if family.type is not None:
                        raise ExpositionError(f"{where}: second TYPE")
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise ExpositionError(f"{where}: bad TYPE")
                    family.type = parts[3]
            continue
        m = re.fullmatch(r"([^\s{]+)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?", line)
        if not m:
            raise ExpositionError(f"{where}: not a sample line")
        sample_name, label_text, value_text = m.group(1), m.group(2), m.group(3)
        if not METRIC_NAME.match(sample_name):
            raise ExpositionError(f"{where}: bad metric name")
        labels = _parse_labels(label_text, where) if label_text else {}
        value = _parse_value(value_text, where)
        family = _family_of(sample_name, families)
        if family is None or family.type is None or family.help is None:
            raise ExpositionError(f"{where}: sample without HELP and TYPE before it")
        if family.name in finished or (current is not family):
            raise ExpositionError(f"{where}: samples of {family.name} are not contiguous")
        series = (sample_name, tuple(sorted(labels.items())))
        if series in seen_series:
            raise ExpositionError(f"{where}: duplicate series")
        seen_series.add(series)
        if family.type == "counter":
            if not family.name.endswith("_total"):
                raise ExpositionError(f"{where}: counter family {family.name} not named *_total")
            if not value >= 0:
                raise ExpositionError(f"{where}: counter is negative or NaN")
        family.samples.append((sample_name, labels, value))
    for family in families.values():
        if family.type is None or family.help is None:
            raise ExpositionError(f"family {family.name} lacks HELP or TYPE")
        if family.type == "histogram":
            _check_histogram(family)
    return families


def _check_histogram(family):
    groups = {}
    for name, labels, value in family.samples:
        key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        group = groups.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if name == family.name + "_bucket":
            if "le" not in labels:
                raise ExpositionError(f"{family.name}: bucket without le")
            group["buckets"].append((_parse_value(labels["le"], family.name), value))
        elif name == family.name + "_sum":
            group["sum"] = value
        elif name == family.name + "_count":
            group["count"] = value
        else:
            raise ExpositionError(f"{family.name}: unexpected sample {name} in a histogram")
    if not groups:
        raise ExpositionError(f"{family.name}: histogram without samples")
    for key, group in groups.items():
        buckets = group["buckets"]
        if not buckets or buckets[-1][0] != math.inf:
            raise ExpositionError(f"{family.name}{key}: buckets do not end with le=\"+Inf\"")
        for (le_a, count_a), (le_b, count_b) in zip(buckets, buckets[1:]):
            if not le_a < le_b:
                raise ExpositionError(f"{family.name}{key}: le not increasing ({le_a}, {le_b})")
            if not count_a <= count_b:
                raise ExpositionError(f"{family.name}{key}: buckets not cumulative at le={le_b}")
        if group["count"] is None or group["sum"] is None:
            raise ExpositionError(f"{family.name}{key}: _count or _sum missing")
        if group["count"] != buckets[-1][1]:
            raise ExpositionError(f"{family.name}{key}: _count {group['count']} != +Inf bucket "
                                  f"{buckets[-1][1]}")


def samples(families, name):
    """{frozenset(labels.items()): value} of the samples named |name| (any family)."""
    out = {}
    for family in families.values():
        for sample_name, labels, value in family.samples:
            if sample_name == name:
                out[frozenset(labels.items())] = value
    return out


def value(families, name, **labels):
    """The value of the series |name|{labels}, or None when absent."""
    return samples(families, name).get(frozenset(labels.items()))


def http_request(port, path, method="GET", timeout=2.0):
    """(status, body text) of one request to 127.0.0.1:|port|."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def http_status(port, path, method="GET"):
    """The status code, or None when the endpoint does not answer."""
    try:
        return http_request(port, path, method)[0]
    except (OSError, http.client.HTTPException):
        return None


def connection_refused(port):
    """True if a TCP connect to 127.0.0.1:|port| is refused (nothing listens there)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


class JsonLogProxy(Proxy):
    """The harness proxy with `log.format: json`."""

    TEXT_LOG = "log: {level: debug, format: text}"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        with open(self.config_path) as f:
            text = f.read()
        if self.TEXT_LOG not in text:
            raise AssertionError(f"harness config changed shape; no {self.TEXT_LOG!r} in:\n{text}")
        with open(self.config_path, "w") as f:
            f.write(text.replace(self.TEXT_LOG, "log: {level: debug, format: json}"))
