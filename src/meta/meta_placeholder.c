typedef int meta_placeholder_unused;
