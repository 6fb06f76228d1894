/* Compatibility-matrix client driver for Eclipse Paho C (Debian libpaho-mqtt-dev,
 * synchronous MQTTClient API over TLS, libpaho-mqtt3cs).
 *
 * This is a test peer, not part of mqtt-auth-proxy: libpaho-mqtt3cs links OpenSSL, which is
 * fine for a client binary built only by tests/compat/run_matrix.py.
 *
 * Same command line and output as the other drivers (see run_matrix.py, "Client drivers"):
 *   paho_c_client MODE --port P --ca FILE [--cert F --key F] --id ID --user U
 *                 [--password PW] --version 3|4|5 --topic BASE [--max-qos N]
 * MODE scenario: prints `RESULT <feature> PASS|FAIL <detail>` for each feature.
 * MODE will:     connects with a last will on BASE/will, prints CONNECTED, waits to be killed.
 * MODE refuse:   connects, prints `REFUSED <code> <text>` (or `CONNECTED`).
 */
#include <MQTTClient.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { kTimeoutMs = 5000, kMaxMessages = 16, kMaxTopic = 256, kMaxPayload = 64 };

struct Args {
  const char* mode;
  const char* port;
  const char* ca;
  const char* cert;
  const char* key;
  const char* id;
  const char* user;
  const char* password;
  int version;
  const char* topic;
  int max_qos; /* highest QoS the publish steps use (a broker may not support 2) */
};

/* Messages received by the library's thread, read by the main thread. */
struct Received {
  char topic[kMaxTopic];
  char payload[kMaxPayload];
  int qos;
  int retained;
};

static pthread_mutex_t inbox_lock = PTHREAD_MUTEX_INITIALIZER;
static struct Received inbox[kMaxMessages];
static int inbox_count;

static int on_message(void* context, char* topic, int topic_len, MQTTClient_message* m) {
  (void)context;
  pthread_mutex_lock(&inbox_lock);
  if (inbox_count < kMaxMessages) {
    struct Received* r = &inbox[inbox_count++];
    size_t tlen = topic_len > 0 ? (size_t)topic_len : strlen(topic);
    snprintf(r->topic, sizeof r->topic, "%.*s", (int)tlen, topic);
    snprintf(r->payload, sizeof r->payload, "%.*s", m->payloadlen, (const char*)m->payload);
    r->qos = m->qos;
    r->retained = m->retained;
  }
  pthread_mutex_unlock(&inbox_lock);
  MQTTClient_freeMessage(&m);
  MQTTClient_free(topic);
  return 1;
}

static void on_connection_lost(void* context, char* cause) {
  (void)context;
  (void)cause;
}

/* Waits up to kTimeoutMs for a message on |topic|; copies it to |out|. Returns 1 if found. */
static int wait_message(const char* topic, struct Received* out) {
  for (int waited = 0; waited < kTimeoutMs; waited += 20) {
    pthread_mutex_lock(&inbox_lock);
    for (int i = 0; i < inbox_count; ++i) {
      if (strcmp(inbox[i].topic, topic) == 0) {
        *out = inbox[i];
        pthread_mutex_unlock(&inbox_lock);
        return 1;
      }
    }
    pthread_mutex_unlock(&inbox_lock);
    usleep(20 * 1000);
  }
  return 0;
}

static void report(const char* feature, int ok, const char* detail) {
  printf("RESULT %s %s %s\n", feature, ok ? "PASS" : "FAIL", detail);
  fflush(stdout);
}

struct Session {
  MQTTClient client;
  MQTTClient_SSLOptions ssl;
  MQTTClient_willOptions will;
  MQTTClient_connectOptions options;
  int version;
};

/* Creates the client and connects. Returns the CONNACK code (0 accepted), or a negative
 * Paho error when no CONNACK was received. */
static int session_connect(struct Session* s, const struct Args* a, const char* will_topic,
                           const char* will_payload) {
  char uri[64];
  snprintf(uri, sizeof uri, "ssl://127.0.0.1:%s", a->port);
  MQTTClient_createOptions create = MQTTClient_createOptions_initializer;
  create.MQTTVersion = a->version == 5 ? MQTTVERSION_5 : MQTTVERSION_DEFAULT;
  s->version = a->version;
  int rc = MQTTClient_createWithOptions(&s->client, uri, a->id, MQTTCLIENT_PERSISTENCE_NONE,
                                        NULL, &create);
  if (rc != MQTTCLIENT_SUCCESS) return rc;
  MQTTClient_setCallbacks(s->client, NULL, on_connection_lost, on_message, NULL);

  MQTTClient_SSLOptions ssl = MQTTClient_SSLOptions_initializer;
  s->ssl = ssl;
  s->ssl.trustStore = a->ca;
  s->ssl.keyStore = a->cert;
  s->ssl.privateKey = a->key;
  s->ssl.enableServerCertAuth = 1;
  s->ssl.sslVersion = MQTT_SSL_VERSION_TLS_1_2;

  if (a->version == 5) {
    MQTTClient_connectOptions options = MQTTClient_connectOptions_initializer5;
    s->options = options;
    s->options.cleanstart = 1;
  } else {
    MQTTClient_connectOptions options = MQTTClient_connectOptions_initializer;
    s->options = options;
    s->options.cleansession = 1;
    s->options.MQTTVersion = a->version == 3 ? MQTTVERSION_3_1 : MQTTVERSION_3_1_1;
  }
  s->options.keepAliveInterval = 30;
  s->options.connectTimeout = kTimeoutMs / 1000;
  s->options.username = a->user;
  s->options.password = a->password;
  s->options.ssl = &s->ssl;
  if (will_topic != NULL) {
    MQTTClient_willOptions will = MQTTClient_willOptions_initializer;
    s->will = will;
    s->will.topicName = will_topic;
    s->will.message = will_payload;
    s->will.qos = 1;
    s->options.will = &s->will;
  }
  if (a->version == 5) {
    MQTTResponse response = MQTTClient_connect5(s->client, &s->options, NULL, NULL);
    rc = response.reasonCode;
    MQTTResponse_free(response);
    return rc;
  }
  return MQTTClient_connect(s->client, &s->options);
}

/* Returns the granted QoS (0..2) or the failure code. */
static int session_subscribe(struct Session* s, const char* topic, int qos) {
  if (s->version == 5) {
    MQTTResponse response = MQTTClient_subscribe5(s->client, topic, qos, NULL, NULL);
    int rc = response.reasonCode;
    MQTTResponse_free(response);
    return rc;
  }
  return MQTTClient_subscribe(s->client, topic, qos);
}

/* Publishes and waits for the QoS handshake to complete. Returns MQTTCLIENT_SUCCESS. */
static int session_publish(struct Session* s, const char* topic, const char* payload, int qos,
                           int retained) {
  MQTTClient_message message = MQTTClient_message_initializer;
  message.payload = (void*)payload;
  message.payloadlen = (int)strlen(payload);
  message.qos = qos;
  message.retained = retained;
  MQTTClient_deliveryToken token = 0;
  int rc;
  if (s->version == 5) {
    MQTTResponse response = MQTTClient_publishMessage5(s->client, topic, &message, &token);
    rc = response.reasonCode;
    MQTTResponse_free(response);
  } else {
    rc = MQTTClient_publishMessage(s->client, topic, &message, &token);
  }
  if (rc != MQTTCLIENT_SUCCESS) return rc;
  return MQTTClient_waitForCompletion(s->client, token, kTimeoutMs);
}

static int session_disconnect(struct Session* s) {
  if (s->version == 5) return MQTTClient_disconnect5(s->client, 1000, MQTTREASONCODE_SUCCESS, NULL);
  return MQTTClient_disconnect(s->client, 1000);
}

static int run_scenario(const struct Args* a) {
  char topic[kMaxTopic];
  char detail[128];
  struct Session s;
  snprintf(topic, sizeof topic, "%s/clean-will", a->topic);
  int rc = session_connect(&s, a, topic, "must-not-arrive");
  snprintf(detail, sizeof detail, "connack=%d", rc);
  report("connect", rc == 0, detail);
  if (rc != 0) return 0;

  snprintf(topic, sizeof topic, "%s/t/#", a->topic);
  rc = session_subscribe(&s, topic, 2);
  snprintf(detail, sizeof detail, "granted=%d", rc);
  report("subscribe", rc >= 0 && rc <= 2, detail);

  for (int qos = 0; qos <= a->max_qos; ++qos) {
    char payload[24];
    char feature[16];
    struct Received got;
    snprintf(topic, sizeof topic, "%s/t/q%d", a->topic, qos);
    snprintf(payload, sizeof payload, "payload-%d", qos);
    snprintf(feature, sizeof feature, "qos%d", qos);
    int acked = session_publish(&s, topic, payload, qos, 0) == MQTTCLIENT_SUCCESS;
    int received = wait_message(topic, &got) && strcmp(got.payload, payload) == 0;
    snprintf(detail, sizeof detail, "acked=%d received=%d rx_qos=%d", acked, received,
             received ? got.qos : -1);
    report(feature, acked && received, detail);
  }

  snprintf(topic, sizeof topic, "%s/r", a->topic);
  int acked = session_publish(&s, topic, "kept", 1, 1) == MQTTCLIENT_SUCCESS;
  rc = session_subscribe(&s, topic, 1);
  struct Received got;
  int received = wait_message(topic, &got) && strcmp(got.payload, "kept") == 0;
  snprintf(detail, sizeof detail, "acked=%d suback=%d received=%d retain_flag=%d", acked, rc,
           received, received ? got.retained : -1);
  report("retained", acked && received && got.retained, detail);

  rc = session_disconnect(&s);
  snprintf(detail, sizeof detail, "rc=%d", rc);
  report("disconnect", rc == MQTTCLIENT_SUCCESS, detail);
  MQTTClient_destroy(&s.client);
  return 0;
}

static int run_will(const struct Args* a) {
  char topic[kMaxTopic];
  char payload[kMaxTopic];
  struct Session s;
  snprintf(topic, sizeof topic, "%s/will", a->topic);
  snprintf(payload, sizeof payload, "will-%s", a->id);
  int rc = session_connect(&s, a, topic, payload);
  if (rc == 0)
    printf("CONNECTED\n");
  else
    printf("REFUSED %d MQTTClient_connect%s returned %d\n", rc, a->version == 5 ? "5" : "", rc);
  fflush(stdout);
  sleep(60); /* killed by the runner: the socket closes without DISCONNECT */
  return 0;
}

static int run_refuse(const struct Args* a) {
  struct Session s;
  int rc = session_connect(&s, a, NULL, NULL);
  if (rc == 0)
    printf("CONNECTED\n");
  else if (rc < 0)
    printf("NO-CONNACK %d %s\n", rc, MQTTClient_strerror(rc));
  else if (a->version == 5)
    printf("REFUSED %d %s\n", rc, MQTTReasonCode_toString((enum MQTTReasonCodes)rc));
  else
    printf("REFUSED %d MQTTClient_connect returned %d\n", rc, rc);
  fflush(stdout);
  return 0;
}

int main(int argc, char** argv) {
  struct Args a = {0};
  a.version = 4;
  a.max_qos = 2;
  if (argc < 2) return 2;
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const char* name = argv[i];
    const char* value = argv[i + 1];
    if (strcmp(name, "--port") == 0) a.port = value;
    else if (strcmp(name, "--ca") == 0) a.ca = value;
    else if (strcmp(name, "--cert") == 0) a.cert = value;
    else if (strcmp(name, "--key") == 0) a.key = value;
    else if (strcmp(name, "--id") == 0) a.id = value;
    else if (strcmp(name, "--user") == 0) a.user = value;
    else if (strcmp(name, "--password") == 0) a.password = value;
    else if (strcmp(name, "--version") == 0) a.version = atoi(value);
    else if (strcmp(name, "--topic") == 0) a.topic = value;
    else if (strcmp(name, "--max-qos") == 0) a.max_qos = atoi(value);
    else return 2;
  }
  if (a.port == NULL || a.ca == NULL || a.id == NULL || a.user == NULL || a.topic == NULL) return 2;
  if (strcmp(a.mode, "scenario") == 0) return run_scenario(&a);
  if (strcmp(a.mode, "will") == 0) return run_will(&a);
  if (strcmp(a.mode, "refuse") == 0) return run_refuse(&a);
  return 2;
}
