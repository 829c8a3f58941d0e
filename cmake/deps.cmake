# cl_dependency(<NAME> <pkg-config module> <header> <library> <Debian package> [REQUIRED])
# Defines the target dep::<NAME> and sets <NAME>_FOUND. pkg-config first: it knows Debian's
# multiarch include directories (curl/curl.h is under /usr/include/<triplet>). Else the header
# and the library are searched with <NAME>_INCDIR, <NAME>_LIBDIR and <NAME>_DIR as hints: the
# directories LuaRocks found for the rockspec's external_dependencies.
function(cl_dependency name module header library debian)
  cmake_parse_arguments(A "REQUIRED" "" "" ${ARGN})
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(PC_${name} QUIET IMPORTED_TARGET GLOBAL ${module})
  endif()
  if(PC_${name}_FOUND)
    add_library(dep::${name} ALIAS PkgConfig::PC_${name})
    set(${name}_FOUND TRUE PARENT_SCOPE)
    return()
  endif()
  set(hints_inc ${${name}_INCDIR})
  set(hints_lib ${${name}_LIBDIR})
  if(${name}_DIR)
    list(APPEND hints_inc ${${name}_DIR}/include)
    list(APPEND hints_lib ${${name}_DIR}/lib)
  endif()
  find_path(${name}_INCLUDE_DIR ${header} HINTS ${hints_inc})
  find_library(${name}_LIBRARY ${library} HINTS ${hints_lib})
  if(${name}_INCLUDE_DIR AND ${name}_LIBRARY)
    add_library(dep::${name} INTERFACE IMPORTED GLOBAL)
    set_target_properties(dep::${name} PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${${name}_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES "${${name}_LIBRARY}")
    set(${name}_FOUND TRUE PARENT_SCOPE)
  elseif(A_REQUIRED)
    message(FATAL_ERROR "${name} not found (pkg-config ${module}, or ${header} and lib${library}): "
      "on Debian, apt-get install ${debian}")
  else()
    set(${name}_FOUND FALSE PARENT_SCOPE)
  endif()
endfunction()
