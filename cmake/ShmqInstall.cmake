# `cmake --install`: where each file goes (GNUInstallDirs), and the component
# (one Debian package each, cmake/ShmqPackages.cmake) it belongs to:
#   library: libshmq.so.0           -> libshmq0
#   dev:     headers, libshmq.so, shmqConfig.cmake, shmq.pc -> libshmq-dev
#   daemon:  shmqd, shmq, unit, sysusers, /etc/shmq/shmqd.yaml, man pages -> shmq
#   python:  the Python package     -> python3-shmq
include(CMakePackageConfigHelpers)

# The system service's files go where systemd looks for them. Under /usr,
# Debian 12 keeps packaged units in /lib/systemd/system (lintian insists,
# the /usr merge is not finished in dpkg); anywhere else, under the prefix.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(SHMQ_SYSTEMD_UNIT_DIR_DEFAULT "/lib/systemd/system")
else()
  set(SHMQ_SYSTEMD_UNIT_DIR_DEFAULT "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()
set(SHMQ_SYSTEMD_UNIT_DIR "${SHMQ_SYSTEMD_UNIT_DIR_DEFAULT}" CACHE PATH "Where the systemd unit is installed")
set(SHMQ_SYSUSERS_DIR "${CMAKE_INSTALL_PREFIX}/lib/sysusers.d" CACHE PATH "Where the sysusers.d file is installed")
# Debian's python3 looks in /usr/lib/python3/dist-packages for packages of
# every Python 3 version.
set(SHMQ_PYTHON_DIR "${CMAKE_INSTALL_PREFIX}/lib/python3/dist-packages" CACHE PATH
    "Where the Python package is installed")

# The unit starts the shmqd this installation puts in place, with the
# configuration it installs.
set(SHMQ_INSTALLED_SHMQD "${CMAKE_INSTALL_FULL_SBINDIR}/shmqd")
set(SHMQ_INSTALLED_CONFIG "${CMAKE_INSTALL_FULL_SYSCONFDIR}/shmq/shmqd.yaml")
configure_file(systemd/shmqd.service.in ${PROJECT_BINARY_DIR}/systemd/shmqd.service @ONLY)
set(SHMQ_INSTALLED_BRIDGE "${CMAKE_INSTALL_FULL_BINDIR}/shmq-bridge")
set(SHMQ_INSTALLED_BRIDGE_CONFIG "${CMAKE_INSTALL_FULL_SYSCONFDIR}/shmq/shmq-bridge.yaml")
configure_file(systemd/shmq-bridge.service.in ${PROJECT_BINARY_DIR}/systemd/shmq-bridge.service @ONLY)

# The client library and its development files.
install(TARGETS shmq EXPORT shmqTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT library  # Windows: shmq.dll
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT library NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(DIRECTORY client/include/shmq DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
set(SHMQ_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/shmq)
install(EXPORT shmqTargets NAMESPACE shmq:: DESTINATION ${SHMQ_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(cmake/shmqConfig.cmake.in ${PROJECT_BINARY_DIR}/shmqConfig.cmake
  INSTALL_DESTINATION ${SHMQ_CMAKE_DIR})
# Versions 0.x promise nothing across minor versions; from 1.0 on, any later
# minor version of the same major one satisfies a request.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(SHMQ_COMPATIBILITY SameMinorVersion)
else()
  set(SHMQ_COMPATIBILITY SameMajorVersion)
endif()
write_basic_package_version_file(${PROJECT_BINARY_DIR}/shmqConfigVersion.cmake
  COMPATIBILITY ${SHMQ_COMPATIBILITY})
install(FILES ${PROJECT_BINARY_DIR}/shmqConfig.cmake ${PROJECT_BINARY_DIR}/shmqConfigVersion.cmake
  DESTINATION ${SHMQ_CMAKE_DIR} COMPONENT dev)
# A static libshmq needs its consumers to link the threads and rt libraries.
if(BUILD_SHARED_LIBS)
  set(SHMQ_PC_PRIVATE_LIBS "")
else()
  set(SHMQ_PC_PRIVATE_LIBS "-lpthread -lrt")
endif()
configure_file(cmake/shmq.pc.in ${PROJECT_BINARY_DIR}/shmq.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/shmq.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

if(SHMQ_BUILD_DAEMON)
  install(TARGETS shmqd RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR} COMPONENT daemon)
  install(TARGETS shmq_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT daemon)
  install(FILES ${PROJECT_BINARY_DIR}/systemd/shmqd.service DESTINATION ${SHMQ_SYSTEMD_UNIT_DIR} COMPONENT daemon)
  if(TARGET shmq_bridge)
    install(TARGETS shmq_bridge RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT daemon)
    install(FILES ${PROJECT_BINARY_DIR}/systemd/shmq-bridge.service DESTINATION ${SHMQ_SYSTEMD_UNIT_DIR}
      COMPONENT daemon)
    install(FILES examples/shmq-bridge.yaml DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT daemon)
  endif()
  install(FILES systemd/shmqd.sysusers.conf DESTINATION ${SHMQ_SYSUSERS_DIR} RENAME shmqd.conf COMPONENT daemon)
  # The unit's default configuration (the package's postinst makes it
  # readable by the broker's group alone); the fully commented examples go
  # with the documentation.
  install(FILES config/shmqd.yaml DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/shmq COMPONENT daemon)
  install(FILES examples/shmqd.yaml examples/shmqd.ini DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
    COMPONENT daemon)
  # Not in shmqd.service.d/: it lifts PrivateNetwork=, which only a broker
  # with metrics_listen needs. The operator copies it there (docs/operations.md).
  install(FILES systemd/shmqd-metrics.conf DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT daemon)
  # Compressed, as Debian policy asks (gzip -9n: no timestamp inside).
  if(SCDOC)
    find_program(SHMQ_GZIP gzip REQUIRED)
    set(compressed)
    foreach(page ${SHMQ_MAN_PAGES})
      string(REGEX MATCH "[0-9]$" section ${page})
      add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/man/${page}.gz
        COMMAND ${SHMQ_GZIP} -9nkf ${PROJECT_BINARY_DIR}/man/${page}
        DEPENDS ${PROJECT_BINARY_DIR}/man/${page})
      list(APPEND compressed ${PROJECT_BINARY_DIR}/man/${page}.gz)
      install(FILES ${PROJECT_BINARY_DIR}/man/${page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section}
        COMPONENT daemon)
    endforeach()
    add_custom_target(man_pages_compressed ALL DEPENDS ${compressed})
  endif()
endif()

# The Python package: pure Python over the C API, loading the installed
# libshmq.so.0; it reads its declarations from its own copy of shmq.h.
if(BUILD_SHARED_LIBS)
  install(DIRECTORY python/shmq DESTINATION ${SHMQ_PYTHON_DIR} COMPONENT python
    FILES_MATCHING PATTERN "*.py" PATTERN "*.pyi" PATTERN "py.typed" PATTERN "__pycache__" EXCLUDE)
  install(FILES client/include/shmq/shmq.h DESTINATION ${SHMQ_PYTHON_DIR}/shmq COMPONENT python)
endif()
