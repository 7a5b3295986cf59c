// Builds the Ledge AAR: `../scripts/build-android.sh && gradle assembleRelease`
// → build/outputs/aar/ledge-release.aar (classes + jni/<abi>/libledge_jni.so + consumer ProGuard rules).
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("com.android.library") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.1.20"
    // LoadOptions cross to the core as JSON (the core's serde derive reads it): no hand-written codec.
    id("org.jetbrains.kotlin.plugin.serialization") version "2.1.20"
}

group = "dev.ledge"
version = "0.1.0"

android {
    namespace = "dev.ledge"
    compileSdk = 35

    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
        ndk {
            // The ABIs scripts/build-android.sh builds into src/main/jniLibs/<abi>/libledge_jni.so.
            abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64")
        }
    }

    sourceSets {
        getByName("main") {
            // src/android: the Image and Bitmap adapters (also compiled and tested by pom.xml against
            // android-all); src/camerax: the ImageProxy adapter (Gradle only: androidx.camera is on Google's
            // repository).
            java.srcDirs("src/main/kotlin", "src/android/kotlin", "src/camerax/kotlin")
            jniLibs.srcDirs("src/main/jniLibs")
        }
        // src/test is the desktop-JVM suite (JUnit 5 against the host libledge_jni.so), run by Maven
        // (pom.xml); it is not an Android unit-test source set.
        getByName("test") {
            java.setSrcDirs(emptyList<String>())
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    packaging {
        jniLibs {
            // The libraries are stripped by the `dist` cargo profile already.
            keepDebugSymbols += "**/libledge_jni.so"
        }
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
        allWarningsAsErrors.set(true)
    }
}

// Fail early, with the fix, when the native libraries were not built.
tasks.named("preBuild") {
    doFirst {
        val missing = listOf("arm64-v8a", "armeabi-v7a", "x86_64")
            .filter { !file("src/main/jniLibs/$it/libledge_jni.so").isFile }
        if (missing.isNotEmpty()) {
            throw GradleException("missing src/main/jniLibs/{${missing.joinToString(",")}}/libledge_jni.so: run ../scripts/build-android.sh first")
        }
    }
}

dependencies {
    implementation("org.jetbrains.kotlinx:kotlinx-serialization-json:1.8.1")
    // LedgeLiveStream.results is a Flow (part of the public API).
    api("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.10.2")
    // ImageProxy.toCameraFrame: apps that use CameraX bring it; the others never load the adapter.
    compileOnly("androidx.camera:camera-core:1.4.1")
}
