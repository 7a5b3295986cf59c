// Android (Gradle) build of the Kotlin library → AAR with jniLibs for arm64-v8a, armeabi-v7a, x86_64.
// The same sources are compiled and tested on the desktop JVM by pom.xml (scripts/test-kotlin.sh).
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "ledge"
