// admin/console_asset.h: the web console, one self-contained HTML page (inline CSS and JS,
// no external assets) compiled into the binary from admin/console/index.html.
#pragma once

#include <string_view>

namespace admin {

std::string_view console_html();

}  // namespace admin
