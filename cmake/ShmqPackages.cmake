# Debian packages with `cpack -G DEB` (scripts/check-packages builds, lints,
# installs and purges them): one package per install component
# (cmake/ShmqInstall.cmake). CPack rather than a debian/ folder: the packages
# come from the same install rules as `cmake --install`, with no second list
# of files to keep in step, and need no debhelper to build.
set(SHMQ_DEB_DIR ${PROJECT_SOURCE_DIR}/packaging/deb)
set(SHMQ_DEB_PACKAGES library libshmq0 dev libshmq-dev daemon shmq)
if(BUILD_SHARED_LIBS)
  list(APPEND SHMQ_DEB_PACKAGES python python3-shmq)
endif()

# Every package carries Debian's copyright file and changelog in its own
# /usr/share/doc folder; the changelog compressed as policy asks (gzip -9n:
# no timestamp, so that the package builds reproducibly).
# The maintainer: .invalid (RFC 2606) until the project has a public address;
# lintian refuses .local.
set(SHMQ_DEB_MAINTAINER "shmq developers <dev@shmq.invalid>" CACHE STRING
    "Maintainer of the Debian packages (name <address>)")
find_program(SHMQ_GZIP gzip REQUIRED)
configure_file(${SHMQ_DEB_DIR}/changelog.in ${PROJECT_BINARY_DIR}/changelog @ONLY)
execute_process(COMMAND ${SHMQ_GZIP} -9nc ${PROJECT_BINARY_DIR}/changelog
  OUTPUT_FILE ${PROJECT_BINARY_DIR}/changelog.gz COMMAND_ERROR_IS_FATAL ANY)
set(SHMQ_DEB_COMPONENTS)
while(SHMQ_DEB_PACKAGES)
  list(POP_FRONT SHMQ_DEB_PACKAGES component package)
  list(APPEND SHMQ_DEB_COMPONENTS ${component})
  string(TOUPPER ${component} COMPONENT)
  set(CPACK_DEBIAN_${COMPONENT}_PACKAGE_NAME ${package})
  # Its maintainer scripts and control files: packaging/deb/<package>/.
  file(GLOB control ${SHMQ_DEB_DIR}/${package}/*)
  set(CPACK_DEBIAN_${COMPONENT}_PACKAGE_CONTROL_EXTRA ${control})
  install(FILES ${SHMQ_DEB_DIR}/copyright ${PROJECT_BINARY_DIR}/changelog.gz
    DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${package} COMPONENT ${component})
  if(EXISTS ${SHMQ_DEB_DIR}/${package}.lintian-overrides)
    install(FILES ${SHMQ_DEB_DIR}/${package}.lintian-overrides
      DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/lintian/overrides RENAME ${package} COMPONENT ${component})
  endif()
endwhile()
set(CPACK_COMPONENTS_ALL ${SHMQ_DEB_COMPONENTS})

set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_PACKAGE_NAME shmq)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${SHMQ_DEB_MAINTAINER}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_STRIP_FILES ON)
# Depends: computed from the binaries' own needs by dpkg-shlibdeps.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR}/client)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
  OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(SHMQ_DEB_SAME_VERSION "(= ${PROJECT_VERSION})")

set(CPACK_COMPONENT_LIBRARY_DESCRIPTION "shared-memory message broker for one machine (client library)
shmq moves messages between the processes of one machine through shared
memory, with no broker round trip on the data path; any process may be
killed at any instant without losing acknowledged messages.
.
This package holds libshmq, the client library.")
# libshmq0 declares its shared library (shlibs: any later version will do,
# the SONAME says when the ABI breaks) and has ldconfig's trigger (triggers).
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")

set(CPACK_COMPONENT_DEV_DESCRIPTION "shared-memory message broker for one machine (development files)
shmq moves messages between the processes of one machine through shared
memory, with no broker round trip on the data path.
.
This package holds the C and C++ headers of libshmq, its CMake package
(find_package(shmq), target shmq::shmq) and its pkg-config file.")
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libshmq0 ${SHMQ_DEB_SAME_VERSION}")

set(CPACK_COMPONENT_DAEMON_DESCRIPTION "shared-memory message broker for one machine
shmq moves messages between the processes of one machine through shared
memory, with no broker round trip on the data path; any process may be
killed at any instant without losing acknowledged messages.
.
This package holds the broker shmqd, its systemd unit (not enabled on
installation) and system user, and the shmq command-line tool.")
set(CPACK_DEBIAN_DAEMON_PACKAGE_SECTION net)
# systemd-sysusers creates the service's user in postinst.
set(CPACK_DEBIAN_DAEMON_PACKAGE_DEPENDS "libshmq0 ${SHMQ_DEB_SAME_VERSION}, systemd")

set(CPACK_COMPONENT_PYTHON_DESCRIPTION "shared-memory message broker for one machine (Python 3 binding)
shmq moves messages between the processes of one machine through shared
memory, with no broker round trip on the data path.
.
This package holds the Python 3 module shmq, over libshmq's C API.")
set(CPACK_DEBIAN_PYTHON_PACKAGE_SECTION python)
set(CPACK_DEBIAN_PYTHON_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_PYTHON_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_PYTHON_PACKAGE_DEPENDS "python3:any, python3-cffi, libshmq0 ${SHMQ_DEB_SAME_VERSION}")

include(CPack)
