#include <bson/bson.h>
#include <mongoc/mongoc.h>
