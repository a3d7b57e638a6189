#include "apiserver/errors.h"
