// bench/mqtt_auth_bench/report.h: the run's results as a human table or one JSON object.
#pragma once

#include <string>

#include "bench/mqtt_auth_bench/options.h"
#include "bench/mqtt_auth_bench/stats.h"

namespace bench {

struct RunTimes {
  double connect_seconds = 0;  // start until every worker finished connecting (or churn time)
  double load_seconds = 0;     // the measured publish window
  uint64_t peak_live = 0;      // connections open at the end of the connect phase
  long bench_max_rss_kib = 0;  // this process, for "the bench is not the bottleneck"
};

std::string render_json(const Options& options, const Stats& stats, const RunTimes& times);
std::string render_table(const Options& options, const Stats& stats, const RunTimes& times);

}  // namespace bench
