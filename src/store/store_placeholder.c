typedef int store_placeholder_unused;
