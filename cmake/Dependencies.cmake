# Every external library, found once. BoringSSL comes from Debian's android-libboringssl-dev;
# OpenSSL may also be installed on the machine, so its headers must never be found first and
# its libraries never linked (tests/CMakeLists.txt checks the binaries with ldd).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(GTest REQUIRED)
find_package(ZLIB REQUIRED)
pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
pkg_check_modules(ARGON2 REQUIRED IMPORTED_TARGET libargon2)
pkg_check_modules(LIBCRYPT REQUIRED IMPORTED_TARGET libxcrypt)

set(BORINGSSL_INCLUDE_DIR /usr/include/android)
set(BORINGSSL_LIB_DIR /usr/lib/x86_64-linux-gnu/android)
if(NOT EXISTS ${BORINGSSL_INCLUDE_DIR}/openssl/base.h)
  message(FATAL_ERROR "BoringSSL headers not found: run scripts/install-deps.sh")
endif()
add_library(boringssl_crypto SHARED IMPORTED GLOBAL)
set_target_properties(boringssl_crypto PROPERTIES
  IMPORTED_LOCATION ${BORINGSSL_LIB_DIR}/libcrypto.so
  IMPORTED_NO_SONAME FALSE
  INTERFACE_INCLUDE_DIRECTORIES ${BORINGSSL_INCLUDE_DIR})
add_library(boringssl_ssl SHARED IMPORTED GLOBAL)
set_target_properties(boringssl_ssl PROPERTIES
  IMPORTED_LOCATION ${BORINGSSL_LIB_DIR}/libssl.so
  INTERFACE_INCLUDE_DIRECTORIES ${BORINGSSL_INCLUDE_DIR}
  INTERFACE_LINK_LIBRARIES boringssl_crypto)
add_library(boringssl::crypto ALIAS boringssl_crypto)
add_library(boringssl::ssl ALIAS boringssl_ssl)
# The Android libraries are outside the loader's path: binaries carry an RPATH to them.
set(CMAKE_BUILD_RPATH ${BORINGSSL_LIB_DIR})
set(CMAKE_INSTALL_RPATH ${BORINGSSL_LIB_DIR})
